import { parseArgs } from 'node:util';
import { parseDuration } from './parse-duration.js';
import type { SimOptions } from './sim-types.js';

export interface CliConfig {
  sim: SimOptions;
  summaryJson?: string;
  help: boolean;
}

export const USAGE = `Usage: firmware-sim [options]

Simulated device fleet publishing telemetry over MQTT.

  --url URL               broker URL (default mqtt://127.0.0.1:1883)
  --devices N             number of devices (default 1)
  --qos 0|1|2             publish QoS (default 1)
  --rate R                messages/s per device, 0 = as fast as the window allows (default 0)
  --duration D            publish for D (e.g. 500ms, 30s, 2m), then drain
  --count N               each device publishes exactly N messages, then drains
  --payload-bytes B       pad each payload to B bytes
  --window W              max unacked publishes per device (default 64)
  --offline-queue Q       max queued unsent messages per device (default 10000)
  --prefix P              device id prefix (default dev-)
  --id-start N            first device number (default 1)
  --topic T               topic template (default devices/{deviceId}/telemetry)
  --malformed-every K     every K-th message is deliberately malformed
  --connect-spread D      spread device start-up over D (default min(devices*2ms, 2s))
  --drain-timeout D       max wait for outstanding acks after publishing ends (default 30s)
  --username U, --password P
  --seed N                PRNG seed (default 1)
  --accept-config         subscribe to devices/{id}/config, apply publishIntervalMs and fields,
                          answer on devices/{id}/config/ack (the default)
  --no-accept-config      do not subscribe to the config topic
  --summary-json FILE     also write the JSON summary to FILE
  -h, --help              show this help

Without --count or --duration the fleet publishes until SIGINT.
Exit code 0 when at least one message was sent and every sent message was acknowledged.`;

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got "${v}"`);
  return n;
}

/** Parse firmware-sim command-line arguments (throws with a readable message on bad input). */
export function parseCliArgs(argv: string[]): CliConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      devices: { type: 'string', default: '1' },
      qos: { type: 'string', default: '1' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      count: { type: 'string' },
      'payload-bytes': { type: 'string' },
      window: { type: 'string' },
      'offline-queue': { type: 'string' },
      prefix: { type: 'string' },
      'id-start': { type: 'string' },
      topic: { type: 'string' },
      'malformed-every': { type: 'string' },
      'connect-spread': { type: 'string' },
      'drain-timeout': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      seed: { type: 'string' },
      'accept-config': { type: 'boolean' },
      'no-accept-config': { type: 'boolean' },
      'summary-json': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const qos = Number(values.qos);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error(`--qos must be 0, 1 or 2, got "${values.qos}"`);
  const sim: SimOptions = { url: values.url, devices: int('devices', values.devices, 1)!, qos };
  const set = <K extends keyof SimOptions>(k: K, v: SimOptions[K] | undefined): void => {
    if (v !== undefined) sim[k] = v;
  };
  set('ratePerDevice', num('rate', values.rate));
  set('durationMs', values.duration === undefined ? undefined : parseDuration(values.duration));
  set('messagesPerDevice', int('count', values.count, 0));
  set('payloadBytes', int('payload-bytes', values['payload-bytes'], 0));
  set('inflightWindow', int('window', values.window, 1));
  set('offlineQueueMax', int('offline-queue', values['offline-queue'], 1));
  set('deviceIdPrefix', values.prefix);
  set('deviceIdStart', int('id-start', values['id-start'], 0));
  set('topicTemplate', values.topic);
  set('malformedEvery', int('malformed-every', values['malformed-every'], 1));
  set('connectSpreadMs', values['connect-spread'] === undefined ? undefined : parseDuration(values['connect-spread']));
  set('drainTimeoutMs', values['drain-timeout'] === undefined ? undefined : parseDuration(values['drain-timeout']));
  set('username', values.username);
  set('password', values.password);
  set('seed', int('seed', values.seed, 0));
  if (values['accept-config'] === true && values['no-accept-config'] === true) throw new Error('--accept-config and --no-accept-config exclude each other');
  if (values['no-accept-config'] === true) sim.acceptConfig = false;
  else if (values['accept-config'] === true) sim.acceptConfig = true;
  const cfg: CliConfig = { sim, help: values.help };
  if (values['summary-json'] !== undefined) cfg.summaryJson = values['summary-json'];
  return cfg;
}
