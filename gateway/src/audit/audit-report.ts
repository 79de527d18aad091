/**
 * The auditor's bookkeeping, independent of Kafka: feed it decoded records in partition order,
 * then ask for the report. Per device: seq contiguous and increasing, duplicates counted, gaps
 * and missing acknowledged seqs found. A device's seq comes from its own payload (`seq`).
 */
export interface DeviceExpectation {
  /** Every seq in 1..ackedContiguousTo was PUBACKed by the gateway and must be in Kafka. */
  ackedContiguousTo: number;
  /** Seqs the device sent deliberately malformed (expected in the dead-letter topic). */
  malformedSeqs?: readonly number[];
}

export interface AuditRecord {
  key: string | null;
  deviceId: string;
  /** Device sequence number from the payload; null if it cannot be read. */
  deviceSeq: number | null;
  partition: number;
}

interface DeviceState {
  seen: Set<number>;
  maxSeq: number;
  minSeq: number;
  records: number;
  duplicates: number;
  outOfOrder: number;
  partitions: Set<number>;
}

export interface DeviceProblem {
  deviceId: string;
  gaps: number[];
  missingAcked: number[];
  duplicates: number;
  outOfOrder: number;
  partitions: number[];
}

export interface AuditReport {
  topic: string;
  ok: boolean;
  records: number;
  devices: number;
  duplicates: number;
  gaps: number;
  outOfOrder: number;
  keyMismatches: number;
  undecodable: number;
  noSeq: number;
  missingAcked: number;
  expectedDevicesMissing: number;
  devicesOnSeveralPartitions: number;
  dlq: { records: number; byCode: Record<string, number>; malformedExpected: number; malformedFound: number };
  /** Rows the gateway dropped on purpose (drop log): they fill gaps without counting as loss. */
  deliberateDrops: { records: number; byReason: Record<string, number>; alsoDelivered: number };
  /** Up to 20 devices with problems, for the human reading the report. */
  problems: DeviceProblem[];
}

export class AuditLedger {
  private readonly devices = new Map<string, DeviceState>();
  private readonly dlqSeqs = new Map<string, Set<number>>();
  private readonly droppedSeqs = new Map<string, Set<number>>();
  private readonly droppedByReason: Record<string, number> = {};
  private droppedRecords = 0;
  private records = 0;
  private keyMismatches = 0;
  private noSeq = 0;
  undecodable = 0;
  private dlqRecords = 0;
  private readonly dlqByCode: Record<string, number> = {};

  add(r: AuditRecord): void {
    this.records++;
    if (r.key !== r.deviceId) this.keyMismatches++;
    if (r.deviceSeq === null) {
      this.noSeq++;
      return;
    }
    let d = this.devices.get(r.deviceId);
    if (!d) {
      d = { seen: new Set(), maxSeq: 0, minSeq: Number.MAX_SAFE_INTEGER, records: 0, duplicates: 0, outOfOrder: 0, partitions: new Set() };
      this.devices.set(r.deviceId, d);
    }
    d.records++;
    d.partitions.add(r.partition);
    const seq = r.deviceSeq;
    if (d.seen.has(seq)) {
      d.duplicates++;
    } else {
      // A first sighting below the highest seq seen means Kafka holds it out of order.
      if (seq < d.maxSeq) d.outOfOrder++;
      d.seen.add(seq);
    }
    if (seq > d.maxSeq) d.maxSeq = seq;
    if (seq < d.minSeq) d.minSeq = seq;
  }

  addDeadLetter(deviceId: string, deviceSeq: number | null, code: string): void {
    this.dlqRecords++;
    this.dlqByCode[code] = (this.dlqByCode[code] ?? 0) + 1;
    if (deviceSeq === null) return;
    let s = this.dlqSeqs.get(deviceId);
    if (!s) this.dlqSeqs.set(deviceId, (s = new Set()));
    s.add(deviceSeq);
  }

  /** A deliberate drop from the gateway's drop log (overflow policy, TTL): accounted, not lost. */
  addDeliberateDrop(deviceId: string, deviceSeq: number | null, reason: string): void {
    this.droppedRecords++;
    this.droppedByReason[reason] = (this.droppedByReason[reason] ?? 0) + 1;
    if (deviceSeq === null) return;
    let s = this.droppedSeqs.get(deviceId);
    if (!s) this.droppedSeqs.set(deviceId, (s = new Set()));
    s.add(deviceSeq);
  }

  report(topic: string, expect?: Readonly<Record<string, DeviceExpectation>>): AuditReport {
    let duplicates = 0;
    let gaps = 0;
    let outOfOrder = 0;
    let missingAcked = 0;
    let expectedDevicesMissing = 0;
    let several = 0;
    let malformedExpected = 0;
    let malformedFound = 0;
    let droppedButDelivered = 0;
    const problems: DeviceProblem[] = [];
    const ids = new Set<string>([...this.devices.keys(), ...Object.keys(expect ?? {})]);
    for (const id of ids) {
      const d = this.devices.get(id);
      const e = expect?.[id];
      const dlq = this.dlqSeqs.get(id);
      const dropped = this.droppedSeqs.get(id);
      for (const s of dropped ?? []) if (d?.seen.has(s)) droppedButDelivered++;
      const malformed = new Set(e?.malformedSeqs ?? []);
      malformedExpected += malformed.size;
      for (const m of malformed) if (dlq?.has(m)) malformedFound++;
      const accounted = (s: number) => d?.seen.has(s) === true || dlq?.has(s) === true || dropped?.has(s) === true;
      // Gaps: holes between the first and the highest seq seen (or acknowledged).
      const top = Math.max(d?.maxSeq ?? 0, e?.ackedContiguousTo ?? 0);
      const from = e ? 1 : d?.minSeq ?? 1;
      // Counted arithmetically, never by walking the range: a hostile device may claim seq 10^20.
      const inRange = (hi: number) => {
        const all = new Set<number>();
        for (const set of [d?.seen, dlq, dropped]) for (const s of set ?? []) if (s >= from && s <= hi) all.add(s);
        return all.size;
      };
      const gapCount = top >= from ? top - from + 1 - inRange(top) : 0;
      const ackedTop = e ? Math.min(top, e.ackedContiguousTo) : from - 1;
      const missingCount = ackedTop >= from ? ackedTop - from + 1 - inRange(ackedTop) : 0;
      const gapList: number[] = [];
      const missingList: number[] = [];
      for (let s = from; s <= top && gapList.length < 20; s++) {
        if (accounted(s)) continue;
        gapList.push(s);
        if (e && s <= e.ackedContiguousTo) missingList.push(s);
      }
      // A device with acknowledged messages of which none is accounted for anywhere.
      if (!d && e && missingCount > 0) expectedDevicesMissing++;
      gaps += gapCount;
      missingAcked += missingCount;
      duplicates += d?.duplicates ?? 0;
      outOfOrder += d?.outOfOrder ?? 0;
      if ((d?.partitions.size ?? 0) > 1) several++;
      if (gapCount > 0 || (d?.outOfOrder ?? 0) > 0 || (d?.duplicates ?? 0) > 0 || (d?.partitions.size ?? 0) > 1) {
        if (problems.length < 20) {
          problems.push({
            deviceId: id,
            gaps: gapList.slice(0, 20),
            missingAcked: missingList.slice(0, 20),
            duplicates: d?.duplicates ?? 0,
            outOfOrder: d?.outOfOrder ?? 0,
            partitions: [...(d?.partitions ?? [])],
          });
        }
      }
    }
    const ok = gaps === 0 && missingAcked === 0 && outOfOrder === 0 && this.keyMismatches === 0 && this.undecodable === 0 && expectedDevicesMissing === 0 && several === 0;
    return {
      topic,
      ok,
      records: this.records,
      devices: this.devices.size,
      duplicates,
      gaps,
      outOfOrder,
      keyMismatches: this.keyMismatches,
      undecodable: this.undecodable,
      noSeq: this.noSeq,
      missingAcked,
      expectedDevicesMissing,
      devicesOnSeveralPartitions: several,
      dlq: { records: this.dlqRecords, byCode: { ...this.dlqByCode }, malformedExpected, malformedFound },
      deliberateDrops: { records: this.droppedRecords, byReason: { ...this.droppedByReason }, alsoDelivered: droppedButDelivered },
      problems,
    };
  }
}

/** The device's own sequence number from a JSON payload (or a decoded typed record). */
export function deviceSeqOf(payload: Buffer | Record<string, unknown>): number | null {
  if (!Buffer.isBuffer(payload)) {
    return safeSeq(payload['seq']);
  }
  const text = payload.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Malformed payloads (dead letters, drop-log heads) still carry the seq as text.
    const m = /"seq"\s*:\s*(\d+)/.exec(text);
    return m ? safeSeq(Number(m[1])) : null;
  }
  return safeSeq((parsed as { seq?: unknown } | null)?.seq);
}

/** A usable seq: a non-negative safe integer (2^53 and above cannot be compared exactly). */
function safeSeq(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}
