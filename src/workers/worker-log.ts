/**
 * A worker thread's log lines. They are posted on the server's log channel (a BroadcastChannel
 * named in the worker's setup), and the primary writes them through the server's one logger:
 * so `--log-file`, `--log-format` and the on/off switches apply to them as to every other line,
 * and no thread writes to stdout or the file on its own. A worker logs a few lines in its life
 * (its instance loaded or failed), never per batch, so a structured clone per line costs nothing
 * that matters.
 */
import { threadId } from 'node:worker_threads';
import type { WorkerLogRecord, WorkerSetup } from './protocol.ts';

export class WorkerLog {
  private channel: BroadcastChannel | null = null;

  constructor(private readonly setup: WorkerSetup) {}

  info(msg: string): void {
    this.post('info', msg);
  }

  error(msg: string): void {
    this.post('error', msg);
  }

  private post(level: WorkerLogRecord['level'], msg: string): void {
    if (this.setup.log === null) return;
    if (this.channel === null) {
      this.channel = new BroadcastChannel(this.setup.log.channel);
      // The channel must not keep the thread alive once piscina is done with it.
      (this.channel as unknown as { unref(): void }).unref();
    }
    const { model, version, instance } = this.setup;
    this.channel.postMessage({ level, msg, model, version, instance, thread: threadId } satisfies WorkerLogRecord);
  }
}
