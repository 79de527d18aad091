/**
 * Compiled topic route: `prefix/{deviceId}/suffix`. Matching is a prefix/suffix compare plus one
 * substring (no split, no regex) because it runs for every PUBLISH.
 */
export const DEVICE_PLACEHOLDER = '{deviceId}';

export interface TopicRoute {
  readonly pattern: string;
  readonly index: number;
  /** Returns the device id the topic names, or null when the topic does not match. */
  match(topic: string): string | null;
}

export function compileTopicRoute(pattern: string, index: number): TopicRoute {
  const at = pattern.indexOf(DEVICE_PLACEHOLDER);
  if (at < 0) throw new Error(`route "${pattern}" has no ${DEVICE_PLACEHOLDER}`);
  const prefix = pattern.slice(0, at);
  const suffix = pattern.slice(at + DEVICE_PLACEHOLDER.length);
  const minLength = prefix.length + suffix.length + 1;
  return {
    pattern,
    index,
    match(topic: string): string | null {
      if (topic.length < minLength || !topic.startsWith(prefix) || !topic.endsWith(suffix)) return null;
      const end = topic.length - suffix.length;
      const slash = topic.indexOf('/', prefix.length);
      if (slash >= 0 && slash < end) return null; // the device id is exactly one topic level
      return topic.slice(prefix.length, end);
    },
  };
}

/** First matching route wins. */
export class TopicRouteTable {
  readonly routes: readonly TopicRoute[];
  constructor(patterns: readonly string[]) {
    this.routes = patterns.map((p, i) => compileTopicRoute(p, i));
  }
  resolve(topic: string): { route: TopicRoute; deviceId: string } | null {
    for (const route of this.routes) {
      const deviceId = route.match(topic);
      if (deviceId !== null) return { route, deviceId };
    }
    return null;
  }
}
