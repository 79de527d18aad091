#!/usr/bin/env node
/**
 * Process entry: `edge-gateway [run]` (default), `audit`, `devices ...`, `keys generate`,
 * `config sign|push|status`, `schemas export DIR`, `status`, `--version`.
 * Load config -> createGateway -> start -> graceful close on SIGTERM/SIGINT.
 */
import { describeError, isGatewayError } from './errors.js';
import { runAuditCommand } from './cli/audit-command.js';
import { CONFIG_USAGE, runConfigCommand } from './cli/config-command.js';
import { DEVICES_USAGE, runDevicesCommand } from './cli/devices-command.js';
import { KEYS_USAGE, runKeysCommand } from './cli/keys-command.js';
import { runGatewayCommand } from './cli/run-command.js';
import { runSchemasCommand } from './cli/schemas-command.js';
import { versionLine } from './cli/version.js';

const USAGE = `usage:
  edge-gateway [run] [--config FILE] [--print-config]   run the gateway (defaults need no file)
  edge-gateway audit [--config FILE] [--brokers HOST:PORT[,..]] [--topic T] [--expect SIM_SUMMARY.json] [--drop-log BUFFER.db] [--json]
${DEVICES_USAGE}
${KEYS_USAGE}
${CONFIG_USAGE}
  edge-gateway status [--config FILE] [--url http://127.0.0.1:9883] [--token T] [--json]
                                  the running gateway's snapshot from its admin server (GET /status)
  edge-gateway schemas export DIR [--config FILE]       write the .avsc files of every envelope
  edge-gateway sim [firmware-sim options]               simulated device fleet (single-executable builds)
  edge-gateway --version                                gateway, Node, arch and SQLite versions`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (first) {
    case 'audit':
      return runAuditCommand(rest);
    case 'devices':
      return runDevicesCommand(rest);
    case 'keys':
      return runKeysCommand(rest);
    case 'config':
      return runConfigCommand(rest);
    case 'schemas':
      return runSchemasCommand(rest);
    case 'status': // loaded on demand: the gateway itself never needs it
      return (await import('./cli/status-command.js')).runStatusCommand(rest);
    case 'run':
      return runGatewayCommand(rest);
    default:
      return runGatewayCommand(argv);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = isGatewayError(err) ? err.code : 'GW_ERR_UNEXPECTED';
    process.stderr.write(`edge-gateway: ${code}: ${describeError(err)}\n${isGatewayError(err) ? '' : `${(err as Error)?.stack ?? ''}\n`}`);
    if (isGatewayError(err, 'GW_ERR_CLI_USAGE')) process.stderr.write(`${USAGE}\n`);
    process.exitCode = 2;
  },
);
