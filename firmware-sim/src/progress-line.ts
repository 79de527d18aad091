import type { SimProgress } from './sim-types.js';

/** One-line live status, e.g. for stderr. */
export function formatProgressLine(p: SimProgress): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  return (
    `[${(p.elapsedMs / 1000).toFixed(1).padStart(6)}s] ${p.phase === 'draining' ? 'draining ' : ''}` +
    `connected ${p.connected}/${p.devices}  sent ${n(p.sent)}  acked ${n(p.acked)}  ${n(p.msgsPerSec)} msg/s  ` +
    `in-flight ${n(p.inflight)}  queued ${n(p.queued)}  errors ${n(p.errors)}` +
    (p.dropped > 0 ? `  dropped ${n(p.dropped)}` : '') +
    (p.resent > 0 ? `  resent ${n(p.resent)}` : '')
  );
}
