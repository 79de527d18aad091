#!/usr/bin/env node
/**
 * Process entry: `edge-gateway [run]` (default), `audit`, `devices ...`, `keys generate`,
 * `config sign|push|status`, `schemas export DIR`, `status`, `--version`.
 * Load config -> createGateway -> start -> graceful close on SIGTERM/SIGINT.
 *
 * Each subcommand is imported when it is chosen: the gateway's start loads neither the auditor
 * (and kafkajs, its Kafka client) nor the operators' config/devices/keys tools.
 */
import { describeError, isGatewayError } from './errors.js';
import { USAGE } from './cli/usage.js';
import { versionLine } from './cli/version.js';

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
      return (await import('./cli/audit-command.js')).runAuditCommand(rest);
    case 'devices':
      return (await import('./cli/devices-command.js')).runDevicesCommand(rest);
    case 'keys':
      return (await import('./cli/keys-command.js')).runKeysCommand(rest);
    case 'config':
      return (await import('./cli/config-command.js')).runConfigCommand(rest);
    case 'schemas':
      return (await import('./cli/schemas-command.js')).runSchemasCommand(rest);
    case 'status':
      return (await import('./cli/status-command.js')).runStatusCommand(rest);
    case 'run':
      return (await import('./cli/run-command.js')).runGatewayCommand(rest);
    default:
      return (await import('./cli/run-command.js')).runGatewayCommand(argv);
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
