/**
 * The `memory` section: the control room's heap trim. After a connection storm (a fleet
 * reconnecting, a broker restart) V8 keeps the pages it freed committed in its page pool, and
 * its memory reducer did not return them on an idle gateway here: with 10,000 idle devices on
 * build/, one memory-reducing GC took RSS from 324 to 211 MiB (a regular full GC: nothing). The
 * trim asks V8 for one when anonymous memory has grown well past what the heap holds and has
 * stopped growing, at most once per `minIntervalMs`. It pauses the event loop (280-365 ms at
 * 10,000 devices on this machine; it scales with the live heap): devices see their PUBACKs that
 * much later, nothing is lost.
 */
import { z } from 'zod';
import { durationMs, live } from './schema-helpers.js';

const MiB = 1024 * 1024;
/** Longest delay a Node timer keeps (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export const memorySchema = z
  .strictObject({
    trim: live(
      z
        .strictObject({
          enabled: z.boolean().default(true).describe('Return memory V8 freed but kept (its page pool) to the OS with a memory-reducing GC when it piles up'),
          slackBytes: z
            .number()
            .int()
            .min(MiB)
            .default(32 * MiB)
            .describe('Trim when anonymous resident memory not held by the heap (RssAnon - heap used - external) is this much above its lowest value since the last trim (or start), and not growing'),
          checkIntervalMs: durationMs('How often the slack is sampled (process.memoryUsage() and /proc/self/status)').min(1000).max(MAX_TIMER_MS).default(15_000),
          minIntervalMs: durationMs('Least time between two trims (doubled, up to 16x, after each trim that freed less than half of slackBytes): bounds the pauses under a load that refills the pool at once')
            .min(60_000)
            .max(MAX_TIMER_MS)
            .default(300_000),
        })
        .prefault({}),
    ),
  })
  .prefault({});

export type MemoryConfig = z.infer<typeof memorySchema>;
export type HeapTrimConfig = MemoryConfig['trim'];
