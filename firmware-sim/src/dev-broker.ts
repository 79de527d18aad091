#!/usr/bin/env node
/**
 * Throw-away local MQTT broker (aedes) for trying firmware-sim without the gateway:
 *   node build/firmware-sim/src/dev-broker.js --port 1883
 * Prints the inbound publish rate once per second to stderr.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';

const { values } = parseArgs({ options: { port: { type: 'string', default: '1883' }, host: { type: 'string', default: '127.0.0.1' } } });
const broker = await Aedes.createBroker();
let received = 0;
broker.on('publish', (_packet, client) => {
  if (client) received++;
});
const server = net.createServer(broker.handle);
server.listen(Number(values.port), values.host, () => {
  process.stderr.write(`dev-broker: listening on mqtt://${values.host}:${String((server.address() as net.AddressInfo).port)}\n`);
});
let last = 0;
const timer = setInterval(() => {
  if (received !== last) process.stderr.write(`dev-broker: ${received - last} msg/s (total ${received})\n`);
  last = received;
}, 1000);
const stop = (): void => {
  clearInterval(timer);
  server.close();
  broker.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
