/**
 * Helpers for the scheduler's end-to-end tests: a server on a throw-away repository, requests
 * for the `slow` fixture, and the model's statistics.
 */
import { makeRepository, type RepoModel } from './repo.ts';
import { startTestServer, type TestServer } from './server.ts';
import { postJson, jsonOf, type RawResponse } from './http.ts';
import type { QueuedScheduler } from '../../src/scheduler/queued-scheduler.ts';
import type { ModelStatistics } from '../../src/observability/model-statistics.ts';

export interface RepoServer extends TestServer {
  /** The model version's statistics. */
  stats(model: string, version?: number): ModelStatistics;
  scheduler(model: string, version?: number): QueuedScheduler;
}

/** Starts a server on a repository made of `models`; closing it removes the repository. */
export async function startRepoServer(models: Record<string, RepoModel>, args: string[] = []): Promise<RepoServer> {
  const repo = makeRepository(models);
  const server = await startTestServer([`--model-repository=${repo.dir}`, ...args]);
  const version = (model: string, v = 1) => server.server.registry.get(model).versions.get(v)!;
  return {
    ...server,
    stats: (model, v) => version(model, v).stats,
    scheduler: (model, v) => version(model, v).scheduler as QueuedScheduler,
    close: async () => {
      await server.close();
      repo.remove();
    },
  };
}

/** Infers `value` (one row) on a model with FP32 INPUT0 [1]; `parameters` go on the request. */
export function inferValue(url: string, model: string, value: number, parameters?: Record<string, unknown>): Promise<RawResponse> {
  return postJson(`${url}/v2/models/${model}/infer`, {
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [value] }],
    ...(parameters ? { parameters } : {}),
  });
}

/** The single OUTPUT0 value of a successful answer. */
export function outputValue(res: RawResponse): number {
  if (res.status !== 200) throw new Error(`status ${res.status}: ${res.body.toString()}`);
  return jsonOf(res).outputs[0].data[0];
}

/** Batch sizes executed, as { size: count }. */
export function batchSizes(stats: ModelStatistics): Record<number, number> {
  return Object.fromEntries(stats.batchStats().map((b) => [b.batch_size, b.compute_infer.count]));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `check()` holds, looking again every millisecond: for a state of the in-process
 * server (a batch at an instance, requests in the queue) that has no event to wait on. A fixed
 * sleep instead races the server on a busy machine.
 */
export async function until(check: () => boolean): Promise<void> {
  // A guard against hanging the run, not a time limit the test asserts.
  for (let i = 0; i < 30_000; i++) {
    if (check()) return;
    await sleep(1);
  }
  throw new Error(`never came true: ${check}`);
}

/** True while `model` (version 1) has a batch running at one of its instances. */
export function running(server: RepoServer, model: string): boolean {
  return server.scheduler(model).instances.all.some((i) => i.busy);
}
