/** Test-side wrapper around the product's auditor (the same code users run). */
import { createAvroEncoder, type EncoderRoute } from '../../gateway/src/encode/avro-encoder.js';
import { auditKafka, type KafkaAuditOptions } from '../../gateway/src/audit/kafka-audit.js';
import type { AuditReport } from '../../gateway/src/audit/audit-report.js';
import type { SimSummary } from '../../firmware-sim/src/load-generator.js';

export async function auditTopic(
  opts: Omit<KafkaAuditOptions, 'codecs' | 'expect'> & { routes?: EncoderRoute[]; sim?: SimSummary },
): Promise<AuditReport> {
  const encoder = createAvroEncoder({ gatewayId: 'audit', defaultTopic: opts.topic, routes: opts.routes ?? [{ topic: 'devices/{deviceId}/telemetry' }] });
  return auditKafka({ ...opts, codecs: encoder.allCodecs(), ...(opts.sim ? { expect: opts.sim.perDevice } : {}) });
}
