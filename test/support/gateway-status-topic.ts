/**
 * Remote-config tests: an Ed25519 signing key pair as `keys generate` makes, and waiting for a
 * gateway's record on the status topic (read back with kcat, an independent client) to say
 * something.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { GatewayStatusRecord } from '../../gateway/src/control/status-record.js';
import { kcatRead } from './kcat.js';

export function signingKeyPair(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The newest status record of `gatewayId` once `pred` holds for it; throws with the last one seen. */
export async function waitForGatewayStatus(
  brokers: readonly string[],
  topic: string,
  gatewayId: string,
  what: string,
  pred: (s: GatewayStatusRecord) => boolean,
  timeoutMs = 60_000,
): Promise<GatewayStatusRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: GatewayStatusRecord | null = null;
  for (;;) {
    const mine = (await kcatRead(brokers, topic).catch(() => [])).filter((r) => r.key === gatewayId);
    if (mine.length > 0) last = JSON.parse(mine[mine.length - 1]!.value) as GatewayStatusRecord;
    if (last && pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`status never showed ${what}; last: ${JSON.stringify(last?.config)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
