/**
 * What a device id may be. The id is the MQTT username and client id, a topic level in routes
 * and ACL patterns (`%u`, `%c`), the Kafka key, and a field in logs and in CSV import/export
 * files, so it must be safe in all of them.
 */
import { gatewayError } from '../errors.js';

export const DEVICE_ID_MAX_CHARS = 128;

// Topic wildcards and separator [MQTT-4.7.1], NUL [MQTT-1.5.3-2], other control characters and
// whitespace (logs, CSV), the CSV separator and quote.
const FORBIDDEN = /[/+#,"\s\p{Cc}]/u;

/** Why `id` is not a valid device id, or null when it is. */
export function deviceIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return 'must be a string';
  const chars = [...id].length;
  if (chars < 1) return 'must not be empty';
  if (chars > DEVICE_ID_MAX_CHARS) return `must be at most ${DEVICE_ID_MAX_CHARS} characters (has ${chars})`;
  if (id.startsWith('$')) return "must not start with '$' (reserved for broker topics, [MQTT-4.7.2-1])";
  const bad = FORBIDDEN.exec(id);
  if (bad) return `must not contain ${JSON.stringify(bad[0])} (no '/', '+', '#', ',', '"', whitespace or control characters)`;
  return null;
}

export function isValidDeviceId(id: unknown): id is string {
  return deviceIdProblem(id) === null;
}

export function assertDeviceId(id: unknown): asserts id is string {
  const problem = deviceIdProblem(id);
  if (problem) throw gatewayError('GW_ERR_AUTH_DEVICE_ID_INVALID', `${JSON.stringify(String(id).slice(0, 140))}: ${problem}`);
}
