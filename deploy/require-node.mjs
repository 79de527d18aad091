// Refuses a Node.js older than package.json's engines.node (the release the single executables
// embed) and says how to get it. Runs before `npm ci` installs anything (preinstall) and before
// every build, so a shell whose PATH still finds the machine's older Node fails here, clearly,
// not later on a missing API. Plain ESM that any Node parses.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const wanted = /^>=(\d+)$/.exec(pkg.engines.node);
if (!wanted) throw new Error(`package.json engines.node must read ">=N", not ${pkg.engines.node}`);
if (Number(process.versions.node.split('.')[0]) < Number(wanted[1])) {
  process.stderr.write(
    `edge-gateway needs Node.js ${pkg.engines.node}; this is ${process.version} (${process.execPath}).\n` +
      'Install the release the binaries embed and put it first on PATH, then run the command again:\n' +
      '  export PATH="$(bash deploy/node-runtime.sh):$PATH"\n',
  );
  process.exit(1);
}
