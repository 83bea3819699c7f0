/**
 * Transfer progress: on a terminal, one bar per running file and an overall bar with speed and ETA, redrawn in
 * place; elsewhere (CI, pipes, tests), one plain line per finished or failed file.
 */
export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

interface Item {
  name: string;
  size: number;
  done: number;
}

export class Progress {
  private readonly items = new Map<string, Item>();
  private total = 0;
  private done = 0;
  private readonly started = Date.now();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;

  constructor(
    private readonly verb: string,
    private readonly out: ProgressSink = process.stderr,
    private readonly log: (line: string) => void = (line) => console.log(line),
  ) {
    this.tty = Boolean(out.isTTY);
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 200);
      this.timer.unref();
    }
  }

  /** Bytes the whole run will move (files to transfer, not those skipped). */
  plan(bytes: number) {
    this.total += bytes;
  }

  /** Bytes planned but not moved after all (a file already there). */
  skip(bytes: number) {
    this.total -= bytes;
  }

  start(name: string, size: number, alreadyDone = 0) {
    this.items.set(name, { name, size, done: alreadyDone });
    this.done += alreadyDone;
  }

  add(name: string, bytes: number) {
    const item = this.items.get(name);
    if (item) item.done += bytes;
    this.done += bytes;
  }

  /** A byte count that was counted but must be sent again (a retried part). */
  undo(name: string, bytes: number) {
    this.add(name, -bytes);
  }

  finish(name: string, message: string) {
    this.items.delete(name);
    this.line(message);
  }

  fail(name: string, message: string) {
    const item = this.items.get(name);
    if (item) this.done -= item.done;
    this.items.delete(name);
    this.line(message);
  }

  /** A line that stays (printed above the bars on a terminal). */
  line(message: string) {
    if (this.tty) {
      this.clear();
      this.out.write(`${message}\n`);
      this.draw();
    } else {
      this.log(message);
    }
  }

  close() {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.clear();
  }

  private clear() {
    if (!this.drawn) return;
    this.out.write(`\x1b[${this.drawn}A`);
    for (let i = 0; i < this.drawn; i++) this.out.write('\x1b[2K\n');
    this.out.write(`\x1b[${this.drawn}A`);
    this.drawn = 0;
  }

  private draw() {
    this.clear();
    const width = Math.max(40, Math.min(this.out.columns ?? 80, 120));
    const lines = [...this.items.values()].slice(0, 8).map((i) => bar(i.name, i.done, i.size, width));
    const seconds = (Date.now() - this.started) / 1000;
    const speed = seconds > 0 ? this.done / seconds : 0;
    const eta = speed > 0 ? (this.total - this.done) / speed : Infinity;
    lines.push(bar(`${this.verb} ${formatBytes(speed)}/s ETA ${formatDuration(eta)}`, this.done, this.total, width));
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

function bar(label: string, done: number, size: number, width: number): string {
  const ratio = size > 0 ? Math.min(1, Math.max(0, done / size)) : 1;
  const name = label.length > 34 ? `…${label.slice(-33)}` : label.padEnd(34);
  const suffix = ` ${String(Math.floor(ratio * 100)).padStart(3)}% ${formatBytes(done)}/${formatBytes(size)}`;
  // Never as wide as the terminal: a wrapped line would break the redraw.
  const cells = Math.max(10, width - 1 - name.length - 3 - 26);
  const full = Math.round(ratio * cells);
  return `${name} [${'#'.repeat(full)}${'.'.repeat(cells - full)}]${suffix}`.slice(0, width - 1);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(u ? 1 : 0)} ${units[u]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
