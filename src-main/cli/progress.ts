/**
 * A one-line progress bar with ETA on stderr: redrawn in place on a terminal, and
 * throttled to a line every few seconds when stderr is a file or a pipe.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, detail = ''): void {
    const now = performance.now();
    const interval = this.tty ? 100 : 5000;
    if (done < this.total && now - this.lastDraw < interval) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const fraction = this.total ? done / this.total : 1;
    const eta = fraction > 0 ? elapsed * (1 / fraction - 1) : NaN;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${this.label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${this.total} ETA ${formatSeconds(eta)} ${detail}`;
    this.stream.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  /** Ends the bar's line so that the next message starts on a fresh one. */
  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60),
    sec = Math.round(s % 60);
  return `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}
