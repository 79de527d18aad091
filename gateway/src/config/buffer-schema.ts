/** The `buffer` section: the durable SQLite queue, its caps and its overflow policy. */
import { z } from 'zod';
import { durationMs, live } from './schema-helpers.js';

export const bufferSchema = z
  .strictObject({
    path: z.string().min(1).default('./data/buffer.db').describe('SQLite buffer file (WAL mode)'),
    synchronous: z
      .enum(['FULL', 'NORMAL', 'EXTRA'])
      .default('FULL')
      .describe('SQLite synchronous level. FULL: a PUBACKed message survives power loss. EXTRA: the same as FULL in WAL mode. NORMAL: survives process crash, but on power loss the acknowledged commits since the last checkpoint not yet in Kafka are lost'),
    maxSizeBytes: live(z.number().int().min(1024 * 1024).default(1024 * 1024 * 1024)).describe('Hard cap on buffered payload bytes'),
    maxAgeSecs: live(z.number().int().nonnegative().default(0)).describe('Expire buffered rows older than this (0 = never); expired rows are counted'),
    highWatermark: live(z.number().gt(0).lte(1).default(0.9)).describe('Fraction of maxSizeBytes above which devices are slowed'),
    lowWatermark: live(z.number().gt(0).lt(1).default(0.8)).describe('Fraction of maxSizeBytes below which devices resume'),
    overflowPolicy: live(z.enum(['block', 'dropOldest']).default('block')).describe('At the hard cap: block (hold devices, drop nothing) or dropOldest (evict oldest rows, counted)'),
    maxAckDelayMs: live(durationMs('Longest ack delay while slowing devices between the watermarks and the cap').default(1000)),
    dropLogMaxRows: z.number().int().nonnegative().default(1_000_000).describe('Rows kept in the drop log (deliberate drops the auditor can match)'),
    commitMaxRecords: z.number().int().positive().default(4096).describe('Most publishes sharing one SQLite transaction (group commit)'),
    commitLingerMs: live(durationMs('Longest a publish waits for its group commit').default(2)),
    ackSliceRecords: z
      .number()
      .int()
      .positive()
      .default(128)
      .describe('Most acknowledgements of a commit released per event-loop turn; smaller keeps new connections and timers served while devices publish flat out, larger gives a little more peak ingest'),
    deadLetterMaxRows: z.number().int().nonnegative().default(100_000).describe('Rows kept in the local dead-letter table (oldest removed first)'),
  })
  .prefault({})
  .refine((b) => b.lowWatermark < b.highWatermark, { message: 'lowWatermark must be below highWatermark', path: ['lowWatermark'] });

export type BufferConfig = z.infer<typeof bufferSchema>;
