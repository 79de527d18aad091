/** Reads decoded envelopes back from a telemetry topic until `done` says enough arrived. */
import type { DecodedEnvelope } from '../../gateway/src/encode/envelope-schema.js';
import { auditTopic } from './audit.js';

export async function readEnvelopesUntil(
  opts: { brokers: readonly string[]; topic: string; timeoutMs?: number },
  done: (records: ReadonlyArray<{ env: DecodedEnvelope; key: string | null }>) => boolean,
): Promise<Array<{ env: DecodedEnvelope; key: string | null }>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const records: Array<{ env: DecodedEnvelope; key: string | null }> = [];
    await auditTopic({ brokers: opts.brokers, topic: opts.topic, timeoutMs: 5_000, onRecord: (env, meta) => records.push({ env, key: meta.key }) });
    if (done(records) || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 500));
  }
}
