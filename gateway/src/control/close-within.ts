/**
 * Closes a Kafka client without letting close() hang: a socket still connecting to an address
 * that never answers is only released by its connect timeout, so the caller waits at most `ms`
 * and the client finishes closing on its own (bounded by that timeout).
 */
export async function closeWithin(client: { close(force?: boolean): Promise<void> }, ms: number): Promise<void> {
  // Force: requests in flight fail at once. A failing close is nothing to report on the way out.
  await waitAtMost(client.close(true).catch(() => undefined), ms);
}

/** Waits for `p` (which must not reject) or `ms`, whichever comes first. */
export async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  await Promise.race([p, waited]);
  clearTimeout(timer);
}
