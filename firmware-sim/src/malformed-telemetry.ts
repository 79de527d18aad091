/**
 * A deliberately malformed telemetry payload that still carries the device id and seq in plain
 * text so tests and auditors can locate it. Alternates between two flavours:
 * - even variants: syntactically invalid JSON (truncated, no closing brace);
 * - odd variants: valid JSON that violates the schema (`temperature` is a string, fields missing).
 */
export function makeMalformedTelemetry(deviceId: string, seq: number, variant: number): string {
  const id = JSON.stringify(deviceId);
  if ((variant & 1) === 0) return `{"deviceId":${id},"seq":${seq},"temperature":"hot"`;
  return `{"deviceId":${id},"seq":${seq},"temperature":"hot","humidity":null}`;
}
