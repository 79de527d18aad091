/**
 * The `memory` section: the control room's heap trim. After a connection storm (a fleet
 * reconnecting, a broker restart) V8 keeps the pages it freed committed in its page pool, and
 * its memory reducer did not return them on an idle gateway here: 10,000 idle devices held
 * ~68 MiB more resident memory than they needed (bench/results/memory-curve.md). The trim asks
 * V8 for one memory-reducing full GC when resident memory has grown well past what the heap
 * holds and has stopped growing, at most once per `minIntervalMs`. It pauses the event loop
 * (~280 ms at 10,000 devices on this machine): devices see their PUBACKs that much later, nothing
 * is lost.
 */
import { z } from 'zod';
import { durationMs, live } from './schema-helpers.js';

const MiB = 1024 * 1024;

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
            .describe('Trim when resident memory not held by the heap (RSS - heap used - external) is this much above its lowest value since the last trim (or start), and not growing'),
          checkIntervalMs: durationMs('How often the slack is sampled (a cheap process.memoryUsage())').min(1000).default(15_000),
          minIntervalMs: durationMs('Least time between two trims: bounds their cost under a load that refills the pool at once').min(1000).default(300_000),
        })
        .prefault({}),
    ),
  })
  .prefault({});

export type MemoryConfig = z.infer<typeof memorySchema>;
export type HeapTrimConfig = MemoryConfig['trim'];
