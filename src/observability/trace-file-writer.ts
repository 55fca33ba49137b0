/**
 * Writes finished traces to the trace file, off the request path: writes are queued and done
 * one at a time with async file calls, so the scheduler never waits on the disk.
 *
 * With log frequency 0 every trace goes into `<file>`, which is kept a complete JSON array
 * after each write: the closing `]` is overwritten by `,<items>]` (Triton only closes its array
 * at exit, so a file read while the server runs would not parse). With log frequency N, traces
 * are buffered per setting and each N of them written as one array into `<file>.<k>`, k = 0, 1, …
 * (Triton's indexed files); what is left is written the same way on close.
 */
import { open, writeFile, type FileHandle } from 'node:fs/promises';

export class TraceFileWriter {
  private queue: Promise<void> = Promise.resolve();
  private handle: FileHandle | null = null;
  /** Bytes in `<file>`; the next write starts at end - 1 (over the `]`). */
  private end = 0;
  private nextIndex = 0;
  /** Traces waiting for their setting's log frequency, by setting (each setting counts its own). */
  private readonly pending = new Map<object, { frequency: number; traces: string[] }>();
  /** After close, late traces (of requests still running past the exit timeout) are dropped: reopening would truncate the file. */
  private closed = false;

  constructor(private readonly file: string, private readonly onError: (err: Error) => void) {}

  /** Queues one trace's items; `owner` is the setting it was sampled under. */
  write(items: readonly string[], logFrequency: number, owner: object): void {
    if (this.closed) return;
    const text = items.join(',');
    if (logFrequency === 0) {
      this.enqueue(() => this.append(text));
      return;
    }
    let group = this.pending.get(owner);
    if (!group) this.pending.set(owner, (group = { frequency: logFrequency, traces: [] }));
    group.traces.push(text);
    if (group.traces.length >= group.frequency) {
      const batch = group.traces.splice(0);
      this.enqueue(() => this.writeIndexed(batch));
    }
  }

  /** Resolves once every queued write is done. */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Writes the buffered traces to indexed files and closes `<file>`. */
  async close(): Promise<void> {
    if (this.closed) return this.queue;
    this.closed = true;
    for (const group of this.pending.values()) {
      if (group.traces.length > 0) {
        const batch = group.traces.splice(0);
        this.enqueue(() => this.writeIndexed(batch));
      }
    }
    this.enqueue(async () => {
      await this.handle?.close();
      this.handle = null;
    });
    await this.queue;
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((err: Error) => this.onError(err));
  }

  private async append(text: string): Promise<void> {
    if (!this.handle) {
      // Truncated on the first trace, as Triton does; never opened while nothing is traced.
      this.handle = await open(this.file, 'w');
      this.end = 0;
    }
    const chunk = Buffer.from(this.end === 0 ? `[${text}]` : `,${text}]`, 'utf8');
    const at = this.end === 0 ? 0 : this.end - 1;
    await this.handle.write(chunk, 0, chunk.length, at);
    this.end = at + chunk.length;
  }

  private async writeIndexed(traces: readonly string[]): Promise<void> {
    await writeFile(`${this.file}.${this.nextIndex++}`, `[${traces.join(',')}]`);
  }
}
