/**
 * `npm run config:example`: writes deploy/config.example.yaml from the schema.
 * `--check` exits 1 (and writes nothing) when the committed file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './binary-targets.js';
import { renderConfigExample } from './config-example.js';

const CONFIG_EXAMPLE_PATH = join(REPO_ROOT, 'deploy', 'config.example.yaml');

const rendered = renderConfigExample();
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(CONFIG_EXAMPLE_PATH, 'utf8');
  } catch {
    committed = ''; // absent counts as out of date
  }
  if (committed !== rendered) {
    process.stderr.write(`${CONFIG_EXAMPLE_PATH} is out of date: run npm run config:example\n`);
    process.exitCode = 1;
  }
} else {
  writeFileSync(CONFIG_EXAMPLE_PATH, rendered);
  process.stderr.write(`wrote ${CONFIG_EXAMPLE_PATH}\n`);
}
