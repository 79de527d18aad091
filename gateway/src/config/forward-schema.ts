/** The `forward` section: how the pump treats a buffered row that keeps crashing the gateway. */
import { z } from 'zod';

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
  })
  .prefault({});

export type ForwardConfig = z.infer<typeof forwardSchema>;
