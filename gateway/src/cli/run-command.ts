/**
 * `edge-gateway run`: the gateway process. First SIGTERM/SIGINT shuts down gracefully; a second
 * one forces exit.
 */
import { parseArgs } from 'node:util';
import { asNumber } from '../config/env-overrides.js';
import { loadConfig } from '../config/load-config.js';
import { logRedactPaths, redactConfig } from '../config/secrets.js';
import { createControlRoom } from '../control/control-room.js';
import { gatewayError } from '../errors.js';
import { createLogger } from '../lib/logger.js';
import { sqliteNativeBinding } from '../lib/native-sqlite.js';

export async function runGatewayCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        'print-config': { type: 'boolean', default: false },
        'shutdown-grace-ms': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw gatewayError('GW_ERR_CLI_USAGE', (err as Error).message);
  }
  const configPath = parsed.values.config ?? process.env['GATEWAY_CONFIG'];
  // The flag overrides forward.shutdownGraceMs and is validated with the file, by the schema.
  const graceFlag = parsed.values['shutdown-grace-ms'];
  const config = loadConfig({ path: configPath, overrides: graceFlag === undefined ? [] : [{ path: ['forward', 'shutdownGraceMs'], value: asNumber(graceFlag) }] });
  if (parsed.values['print-config']) {
    // Secrets (marked in the schema) are never printed: this output lands in tickets and chats.
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return 0;
  }
  const logger = createLogger(config.log.level, { redact: logRedactPaths() });
  const room = createControlRoom({
    fileConfig: config,
    configPath,
    logger,
    gatewayDeps: { sqliteNativeBinding: sqliteNativeBinding() },
    onStranded: (reason) => {
      // Serving nothing while alive would hide the failure; a restart boots last-good or the file.
      logger.fatal({ event: 'stranded', reason }, 'no configuration starts; exiting for a restart');
      process.exit(1);
    },
  });
  // Crash breaker: note the buffer rows in flight before dying, so a row that keeps crashing the
  // process is dead-lettered at a later start instead of crash-looping it (forward.crashLimit).
  // Unhandled rejections arrive here too (Node's default --unhandled-rejections=throw).
  process.on('uncaughtException', (err, origin) => {
    const crash = room.recordCrash(err);
    logger.fatal({ event: 'crash', origin, err, crashGuard: crash.guard, crashGuardError: crash.error }, 'uncaught exception; exiting');
    process.exit(1); // pino flushes its destination on exit
  });
  logger.info({ event: 'starting', gatewayId: config.gatewayId, config: configPath ?? '(embedded defaults)', node: process.version, execArgv: process.execArgv }, 'edge-gateway starting');
  await room.start();

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ event: 'shutdown_forced', signal }, 'second signal: exiting now');
        logger.flush();
        process.exit(130);
      }
      logger.info({ event: 'signal', signal }, 'graceful shutdown requested');
      // A given flag holds over a config pushed or reloaded since; otherwise the running config's value.
      room.close(graceFlag === undefined ? undefined : { forwardGraceMs: config.forward.shutdownGraceMs }).then(
        () => {
          logger.flush();
          resolve(0);
          // The database is closed and acks are out; a half-open Kafka socket must not keep
          // the process (and systemd's stop job) waiting for its request timeout.
          setTimeout(() => process.exit(0), 200).unref();
        },
        (err: unknown) => {
          logger.error({ event: 'shutdown_failed', err }, 'shutdown failed');
          logger.flush();
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // SIGHUP (systemd ExecReload): re-read the TLS certificate files (renewed certificates) and
    // the local config file, through the same validate/dry-run/apply path as a pushed config.
    process.on('SIGHUP', () => {
      logger.info({ event: 'signal', signal: 'SIGHUP' }, 'reloading TLS certificates and the config file');
      room.reload().catch((err: unknown) => logger.error({ event: 'reload_failed', err }, 'reload failed'));
    });
  });
}
