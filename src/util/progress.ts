/**
 * A terminal progress line for long work: done/total, percentage, rate (items/s, or a custom unit), and ETA,
 * redrawn in place at most a few times per second on a TTY and printed sparingly otherwise.
 */

export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit shown in the rate, e.g. 'merges'. */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Disable output (tests, --quiet). */
  silent?: boolean;
  /** Formats amounts (done, total, rate), e.g. as bytes; default: the plain number. */
  format?: (n: number) => string;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
  }

  update(done: number, force = false): void {
    if (this.opts.silent) return;
    const now = performance.now();
    const interval = this.stream.isTTY ? 200 : 5000;
    if (!force && now - this.lastDraw < interval) return;
    this.lastDraw = now;
    const elapsed = (now - this.start) / 1000;
    const total = this.opts.total;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const fmt = this.opts.format;
    const amounts = fmt ? `${fmt(done)}/${fmt(total)}` : `${done}/${total}`;
    const speed = fmt ? `${fmt(rate)}/s` : `${rate.toFixed(0)} ${this.opts.unit ?? 'it'}/s`;
    const line = `${this.opts.label} ${bar} ${amounts} (${(frac * 100).toFixed(0)}%) ${speed} ETA ${formatDuration(eta)}`;
    this.stream.write(this.stream.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }

  finish(done: number): void {
    if (this.opts.silent) return;
    this.update(done, true);
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
