/**
 * Test tooling, loaded into the real gateway process with `NODE_OPTIONS=--import <this file>`
 * (no test-only branch in product code): stands in for an unknown bug that kills the process
 * while one particular record is being sent. When a Kafka produce request carries a value
 * containing EG_TEST_CRASH_MARKER, a plain (non-Gateway) error is thrown from a setImmediate,
 * i.e. an uncaught exception while that lease is in flight. The send itself proceeds.
 */
import { Producer } from '@platformatic/kafka';

const marker = Buffer.from(process.env['EG_TEST_CRASH_MARKER'] ?? 'CRASH-ME');
type SendFn = (this: unknown, options: { messages?: Array<{ value?: unknown }> }, ...rest: unknown[]) => unknown;
const proto = Producer.prototype as unknown as { send: SendFn };
const original = proto.send;

proto.send = function send(this: unknown, options, ...rest) {
  if (options?.messages?.some((m) => Buffer.isBuffer(m.value) && m.value.includes(marker))) {
    setImmediate(() => {
      throw new TypeError('simulated bug: a record crashed the process while in flight');
    });
  }
  return original.call(this, options, ...rest);
};
