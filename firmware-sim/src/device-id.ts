/** `dev-` + zero-padded number, e.g. formatDeviceId('dev-', 1, 5) === 'dev-00001'. */
export function formatDeviceId(prefix: string, n: number, width = 5): string {
  return prefix + String(n).padStart(width, '0');
}

/** Expand a topic template, replacing every `{deviceId}` placeholder. */
export function topicFor(template: string, deviceId: string): string {
  return template.split('{deviceId}').join(deviceId);
}
