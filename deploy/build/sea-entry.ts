/**
 * Main script of the single executable: `edge-gateway sim ...` is firmware-sim, anything else is
 * the gateway CLI (run, audit, schemas, --version). Each main module starts when imported, so
 * exactly one is imported.
 */
const entry = process.argv[2] === 'sim' ? 'sim' : 'gateway';
if (entry === 'sim') process.argv.splice(2, 1);

(entry === 'sim' ? import('../../firmware-sim/src/main.js') : import('../../gateway/src/main.js')).catch((err: unknown) => {
  process.stderr.write(`edge-gateway: cannot start ${entry}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});

export {};
