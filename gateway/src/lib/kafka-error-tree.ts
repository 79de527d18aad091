/**
 * @platformatic/kafka reports a failure as a tree: MultipleErrors / ResponseError hold `errors`,
 * any error may hold a `cause`, and a broker's answer is a ProtocolError whose `apiId` is Kafka's
 * error name. Flattened here once for the pipeline's and the control room's classifiers.
 */
export interface ClientErrorLike {
  name?: string;
  code?: string;
  apiId?: string;
  message?: string;
  serverErrorMessage?: string | null;
  cause?: unknown;
  errors?: unknown[];
}

/** Every error in the tree, depth first, parents before children; cycles, depth and size are bounded. */
export function flattenClientError(err: unknown): ClientErrorLike[] {
  const out: ClientErrorLike[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 8 || out.length > 64) return;
    seen.add(e);
    const c = e as ClientErrorLike;
    out.push(c);
    if (Array.isArray(c.errors)) for (const inner of c.errors) walk(inner, depth + 1);
    walk(c.cause, depth + 1);
  };
  walk(err, 0);
  return out;
}
