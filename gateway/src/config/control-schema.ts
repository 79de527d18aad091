/**
 * The `control` section: the control room beside the pipeline. Remote configuration (signed
 * documents read from a compacted Kafka topic), the status/heartbeat topic, and device
 * configuration delivered down to the devices. Nothing here is on the telemetry hot path.
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { durationMs, live } from './schema-helpers.js';

function isEd25519PublicKey(pem: string): boolean {
  if (!pem.includes('BEGIN PUBLIC KEY')) return false;
  try {
    return createPublicKey(pem).asymmetricKeyType === 'ed25519';
  } catch {
    return false; // not a parseable key: reported by the refine's message
  }
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;

export const trustedKeySchema = z.strictObject({
  kid: z.string().regex(KID, 'letters, digits, ".", "_" or "-", at most 64').describe('Key id; a signed document names it in its JWS header'),
  publicKey: z
    .string()
    .min(1)
    .refine(isEd25519PublicKey, { message: 'must be an Ed25519 public key in PEM (SPKI), as written by `edge-gateway keys generate`' })
    .describe('Ed25519 public key, PEM (SPKI)'),
});

export const controlSchema = live(
  z
  .strictObject({
    trustedKeys: z
      .array(trustedKeySchema)
      .default([])
      .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, { message: 'kids must be unique' })
      .describe('Trust anchors for pushed configuration (more than one during a key rotation). A pushed document may replace them only when it is signed by a key trusted now'),
    remoteConfig: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Read signed configuration documents for this gateway from `topic` (needs trustedKeys)'),
        topic: z.string().min(1).default('edge.gateway.config').describe('Compacted topic, key = gateway id, value = a signed document (JWS, EdDSA); only the partition of this gateway\'s key is read'),
        healthWindowMs: durationMs('After applying a pushed document the gateway must reach Kafka, bind its listeners and commit to its buffer within this window, or it rolls back to last-good').min(1000).default(60_000),
        pollIntervalMs: durationMs('Longest wait of one fetch on the config topic (Kafka long poll)').min(100).default(5_000),
      })
      .prefault({}),
    status: z
      .strictObject({
        topic: z.string().min(1).default('edge.gateway.status').describe('Compacted topic, key = gateway id: applied config version, last result and the heartbeat'),
        heartbeatIntervalSecs: z.number().int().nonnegative().default(30).describe('Publish the status record this often; 0 = only on config events'),
      })
      .prefault({})
      .describe('Published whenever remoteConfig or deviceConfig is enabled'),
    deviceConfig: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Deliver device configuration from `topic` to this gateway\'s devices (retained, QoS 1, on devices/{id}/config)'),
        topic: z.string().min(1).default('edge.device.config').describe('Compacted topic, key = device id, value = JSON {"version": n, "config": {...}}'),
        statusTopic: z.string().min(1).default('edge.device.status').describe('Compacted topic, key = device id: desired/delivered/acknowledged versions and the device\'s answer'),
      })
      .prefault({}),
  })
  .prefault({})
  .refine((c) => !c.remoteConfig.enabled || c.trustedKeys.length > 0, { message: 'remoteConfig.enabled needs at least one trusted key', path: ['trustedKeys'] }),
).describe('The control room (applied live: it restarts its own readers; the pipeline is not touched)');

export type ControlConfig = z.infer<typeof controlSchema>;
export type TrustedKeyConfig = z.infer<typeof trustedKeySchema>;
