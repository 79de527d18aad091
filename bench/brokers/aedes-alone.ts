/**
 * aedes with its defaults (in-memory persistence, no hooks) on a plain TCP server: what the
 * broker itself costs per client, without the gateway around it (bench/scenarios/session-floor.ts).
 * Prints process.memoryUsage() each second.
 *   node build/bench/brokers/aedes-alone.js PORT
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { reportMemoryEachSecond } from './memory-report.js';

const port = Number(process.argv[2]);
const broker = await Aedes.createBroker();
createServer(broker.handle).listen(port, '127.0.0.1', () => reportMemoryEachSecond());
