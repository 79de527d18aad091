/**
 * Child process for the power-cut self-test: opens a database with the gateway's own opener
 * (WAL, the given `synchronous`), makes a baseline durable with a checkpoint, then runs N
 * one-row transactions and says so on stdout. It then waits to be SIGKILLed: closing would
 * checkpoint, and a checkpoint syncs.
 *   node sqlite-commits.js DB_PATH FULL|NORMAL|EXTRA N
 */
import { openBufferDatabase } from '../../gateway/src/buffer/sqlite-buffer.js';

const [path, level, count] = process.argv.slice(2);
const db = openBufferDatabase({ path: path!, synchronous: level as 'FULL' | 'NORMAL' | 'EXTRA' });
db.exec('CREATE TABLE IF NOT EXISTS powercut (n INTEGER PRIMARY KEY, at INTEGER NOT NULL)');
db.pragma('wal_checkpoint(TRUNCATE)');
const insert = db.prepare('INSERT INTO powercut (at) VALUES (?)');
for (let i = 0; i < Number(count); i++) insert.run(Date.now());
process.stdout.write(`${JSON.stringify({ committed: Number(count) })}\n`);
setInterval(() => undefined, 60_000);
