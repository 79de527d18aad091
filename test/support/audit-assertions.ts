/**
 * What every system test proves with the auditor's report: no PUBACKed message is missing from
 * Kafka, each device's records are in order, keys are device ids, every value decodes, each device
 * stays on one partition, and (unless the test drops records on purpose) no seq is missing at all.
 * Duplicates are the test's own business: their bound depends on what it does to the gateway.
 */
import assert from 'node:assert/strict';
import type { AuditReport } from '../../gateway/src/audit/audit-report.js';

export function assertNoLoss(report: AuditReport, opts: { checkGaps?: boolean } = {}): void {
  const seen: Record<string, number> = {
    missingAcked: report.missingAcked,
    outOfOrder: report.outOfOrder,
    keyMismatches: report.keyMismatches,
    undecodable: report.undecodable,
    devicesOnSeveralPartitions: report.devicesOnSeveralPartitions,
  };
  if (opts.checkGaps !== false) seen['gaps'] = report.gaps;
  const none = Object.fromEntries(Object.keys(seen).map((k) => [k, 0]));
  assert.deepEqual(seen, none, `audit of ${report.topic}: ${JSON.stringify(report.problems.slice(0, 5))}`);
}
