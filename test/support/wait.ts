/** Waiting in tests: a plain sleep, and polling until a condition holds (or failing, named). */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `fn` every `everyMs` until it returns a truthy value (returned); throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T | null | undefined | false, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
