/**
 * The floor of any MQTT session layer on Node: one net.Socket and one mqtt-packet parser per
 * connection, answering CONNECT, SUBSCRIBE, QoS1 PUBLISH and PINGREQ and keeping nothing else
 * (no authentication, no session, no routing). A bench reference for what aedes costs per client
 * (bench/scenarios/session-floor.ts), not a broker. Prints process.memoryUsage() each second.
 *   node build/bench/brokers/mqtt-floor.js PORT
 */
import { createServer } from 'node:net';
import mqtt from 'mqtt-packet';
import { reportMemoryEachSecond } from './memory-report.js';

const port = Number(process.argv[2]);
createServer((socket) => {
  const parser = mqtt.parser({ protocolVersion: 4 });
  const send = (packet: mqtt.Packet): void => void socket.write(mqtt.generate(packet));
  parser.on('packet', (p) => {
    if (p.cmd === 'connect') send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    else if (p.cmd === 'subscribe') send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((s) => s.qos) });
    else if (p.cmd === 'publish' && p.qos === 1) send({ cmd: 'puback', messageId: p.messageId });
    else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
  });
  parser.on('error', () => socket.destroy());
  socket.on('data', (chunk) => parser.parse(chunk));
  socket.on('error', () => socket.destroy());
}).listen(port, '127.0.0.1', () => reportMemoryEachSecond());
