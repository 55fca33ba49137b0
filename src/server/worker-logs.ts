/**
 * The primary's end of the workers' log channel: each server listens on a BroadcastChannel of
 * its own name (a test process runs several servers, each with its own workers), and writes
 * every record its workers post through its logger, with the worker's thread id as a field (the
 * message names the model, version and instance). See src/workers/worker-log.ts for the other end.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/index.ts';
import type { WorkerLogRecord, WorkerLogSetup } from '../workers/index.ts';

export interface WorkerLogListener {
  /** What each worker is started with. */
  readonly setup: WorkerLogSetup;
  /** Stops listening (lines posted after this are dropped). */
  close(): void;
}

export function listenToWorkerLogs(logger: Logger, verbose: number): WorkerLogListener {
  const setup: WorkerLogSetup = { channel: `nereid-log-${randomUUID()}`, verbose };
  const channel = new BroadcastChannel(setup.channel);
  // Listening must not keep the process alive.
  (channel as unknown as { unref(): void }).unref();
  channel.onmessage = (event) => {
    const { level, msg, thread } = (event as MessageEvent<WorkerLogRecord>).data;
    logger[level]({ thread }, msg);
  };
  return { setup, close: () => channel.close() };
}
