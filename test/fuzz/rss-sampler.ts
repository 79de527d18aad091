/**
 * Samples a process's resident set size from /proc/<pid>/status (VmRSS) at a fixed interval:
 * the memory the kernel actually gives the gateway, whatever the runtime thinks it uses. A
 * failed read means the process is gone, which is recorded too.
 */
import { readFileSync } from 'node:fs';

export interface RssSummary {
  samples: number;
  startBytes: number;
  maxBytes: number;
  endBytes: number;
  /** The process disappeared while being sampled. */
  vanished: boolean;
}

export function readRssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly s: RssSummary = { samples: 0, startBytes: 0, maxBytes: 0, endBytes: 0, vanished: false };

  constructor(private readonly pid: number, private readonly intervalMs = 200) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  private sample(): void {
    const rss = readRssBytes(this.pid);
    if (rss === null) {
      this.s.vanished = true;
      return;
    }
    if (this.s.samples === 0) this.s.startBytes = rss;
    this.s.samples++;
    this.s.maxBytes = Math.max(this.s.maxBytes, rss);
    this.s.endBytes = rss;
  }

  get summary(): Readonly<RssSummary> {
    return this.s;
  }

  /** Takes a last sample and stops. */
  stop(): RssSummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return { ...this.s };
  }
}
