/**
 * MQTT topic-filter algebra, pure: does a topic match a filter (publish/forward checks), and does
 * one filter cover every topic another filter can match (subscribe checks). Spec clauses:
 * '#' matches the parent level too [MQTT-4.7.1-2]; wildcards at the first level never match a
 * topic starting with '$' [MQTT-4.7.2-1].
 */

/** True if `topic` (no wildcards) matches `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 36 /* $ */ && (filter[0] === '+' || filter[0] === '#')) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True if every topic that `inner` can match is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  if (inner.charCodeAt(0) === 36 /* $ */ && (outer[0] === '+' || outer[0] === '#')) return false;
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    const level = o[i]!;
    if (level === '#') return true;
    if (i >= n.length) return false;
    const other = n[i]!;
    if (other === '#') return false;
    if (level === '+') continue;
    if (other === '+' || other !== level) return false;
  }
  return o.length === n.length;
}

/** A well-formed filter: '#' only as the last level, wildcards only as whole levels. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l === '#') {
      if (i !== levels.length - 1) return false;
    } else if (l !== '+' && (l.includes('#') || l.includes('+'))) return false;
  }
  return true;
}

/** Strips a shared-subscription prefix (`$share/<group>/<filter>`) to the filter it reads. */
export function effectiveFilter(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const rest = filter.indexOf('/', 7);
  return rest < 0 ? '' : filter.slice(rest + 1);
}
