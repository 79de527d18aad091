/** The `forward` section: the pump's crash breaker and how long a graceful shutdown waits for Kafka. */
import { z } from 'zod';
import { durationMs, live } from './schema-helpers.js';

export const forwardSchema = z
  .strictObject({
    crashLimit: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe(
        'Crash breaker: when the process dies of an uncaught exception, the buffer rows in flight are recorded; at the next start they are forwarded one at a time, and a row that alone was in flight during this many consecutive crashes (counting the crashes of the wider range that held it) is moved to the local dead_letters table with GW_ERR_FORWARD_POISON_ROW, unsent. kill -9 and power cuts are not counted',
      ),
    shutdownGraceMs: live(
      durationMs(
        'Graceful shutdown (SIGTERM/SIGINT): time Kafka has to acknowledge the batch in flight after devices are disconnected and their last publishes committed; rows it has not acknowledged stay buffered and are sent after the restart. `edge-gateway run --shutdown-grace-ms` overrides it',
      ).default(10_000),
    ),
  })
  .prefault({});

export type ForwardConfig = z.infer<typeof forwardSchema>;
