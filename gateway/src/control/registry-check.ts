/**
 * The Schema Registry half of a push's dry run (kafka.valueFormat: registry): every schema the
 * new config would write and the running one does not is checked against its subject, so a
 * change the subject's compatibility rule refuses is rejected before anything is applied and the
 * running schemas stay. Schemas already in use need no registry (their ids are known).
 */
import type { GatewayConfig } from '../config/schema.js';
import { readTlsClientOptions } from '../config/tls-files.js';
import { createAvroEncoder } from '../encode/avro-encoder.js';
import { createRegistryClient } from '../encode/registry-client.js';
import type { SchemaRef } from '../encode/registry-subject.js';
import { gatewayError, type GatewayError } from '../errors.js';

/** Null when the registry accepts every new schema of `next` (or `next` is not in registry format). */
export async function checkRegistrySchemas(next: Readonly<GatewayConfig>, running: Readonly<GatewayConfig>): Promise<GatewayError | null> {
  const reg = next.kafka.schemaRegistry;
  if (next.kafka.valueFormat !== 'registry' || reg === undefined) return null;
  const sameRegistry = running.kafka.valueFormat === 'registry' && running.kafka.schemaRegistry?.url === reg.url;
  const inUse = new Set(sameRegistry ? schemaRefsOf(running).map(keyOf) : []);
  const fresh = schemaRefsOf(next).filter((r) => !inUse.has(keyOf(r)));
  if (fresh.length === 0) return null;
  const tls = reg.url.startsWith('https:') ? readTlsClientOptions('kafka.schemaRegistry.tls', { ...reg.tls }) : undefined;
  const client = createRegistryClient({ url: reg.url, auth: reg.auth, tls, requestTimeoutMs: reg.requestTimeoutMs });
  try {
    for (const ref of fresh) {
      const found = await client.lookup(ref.subject, ref.schema);
      if (found.ok) continue;
      if (found.error.code !== 'GW_ERR_REGISTRY_NOT_REGISTERED') return found.error;
      if (!reg.autoRegister) return found.error;
      const c = await client.compatibility(ref.subject, ref.schema);
      if (!c.ok) return c.error;
      if (!c.value.compatible) {
        const why = c.value.messages.length > 0 ? `: ${c.value.messages.slice(0, 3).join('; ')}` : '';
        return gatewayError(
          'GW_ERR_REGISTRY_INCOMPATIBLE',
          `subject "${ref.subject}" at ${client.displayUrl}${why}; the running schemas are kept`,
        );
      }
    }
    return null;
  } finally {
    client.close();
  }
}

function schemaRefsOf(c: Readonly<GatewayConfig>): SchemaRef[] {
  if (c.kafka.valueFormat !== 'registry' || c.kafka.schemaRegistry === undefined) return [];
  const noIds = { idOf: () => null, problem: () => null };
  return createAvroEncoder({
    gatewayId: c.gatewayId,
    defaultTopic: c.kafka.topic,
    routes: c.mqtt.routes,
    registry: { ids: noIds, strategy: c.kafka.schemaRegistry.subjectNameStrategy, dlqTopic: c.kafka.dlqTopic },
  }).schemaRefs();
}

const keyOf = (r: SchemaRef): string => `${r.subject}\u0000${r.schema}`;
