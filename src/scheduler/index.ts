/** The public surface of src/scheduler/: the Scheduler interface and the factory that makes one. */
export { createScheduler, type SchedulerSetup } from './scheduler-factory.ts';
export type { Scheduler } from './scheduler.ts';
export { ResponseCache } from './response-cache.ts';
export { CacheScheduler } from './cache-scheduler.ts';
export { SequenceScheduler } from './sequence-scheduler.ts';
export { warmUp, type WarmupReport } from './model-warmup.ts';
export { EnsembleScheduler, type ModelResolver } from './ensemble-scheduler.ts';
