/**
 * Makes a model version's scheduler from its config: starts the version's instances (every
 * instance of every instance group on every device), then picks the scheduler kind: the dynamic
 * batcher where the config has dynamic_batching, the direct scheduler otherwise, with the response
 * cache in front where the model enables it and the server has one; sequence and ensemble
 * schedulers join here. A factory that fails has stopped whatever it started:
 * no scheduler is ever half-built.
 */
import type { ModelConfig } from '../model-config/index.ts';
import { InstanceSet, type ModelCaller, type WorkerLogSetup } from '../instance/index.ts';
import type { ModelStatistics, TraceSampler } from '../observability/index.ts';
import { slotBytesFor } from './batch-assembly.ts';
import { DirectScheduler } from './direct-scheduler.ts';
import { DynamicBatchScheduler } from './dynamic-batch-scheduler.ts';
import { SequenceScheduler } from './sequence-scheduler.ts';
import type { Scheduler } from './scheduler.ts';
import { CacheScheduler } from './cache-scheduler.ts';
import { EnsembleScheduler, type ModelResolver } from './ensemble-scheduler.ts';
import type { ResponseCache } from './response-cache.ts';

/** What a version's scheduler is made from. */
export interface SchedulerSetup {
  readonly config: ModelConfig;
  readonly version: number;
  /** Absolute path of the version's model file. */
  readonly modelPath: string;
  /** The runtime's intra-op threads per instance. */
  readonly intraOpThreads: number;
  readonly stats: ModelStatistics;
  readonly tracer: TraceSampler | null;
  /** Where the instances' workers log (absent: nowhere). */
  readonly log?: WorkerLogSetup | null;
  /** The server's response cache (--cache-config); null without one. */
  readonly responseCache?: ResponseCache | null;
  /** Runs the instances' calls to other models (absent: a model cannot make any). */
  readonly caller?: ModelCaller;
  /** The server's ready models, for an ensemble's steps. */
  readonly models?: ModelResolver;
}

/** Slot size for models with variable dims (a batch that needs more takes the slow path). */
const VARIABLE_SLOT_BYTES = 4 * 1024 * 1024;

/** Starts the version's instances and returns its scheduler; throws the load error. */
export async function createScheduler(setup: SchedulerSetup): Promise<Scheduler> {
  const { config, version, modelPath, intraOpThreads, stats, tracer, log } = setup;
  // An ensemble starts no instance: its steps run on their own models' schedulers.
  if (config.ensemble) {
    if (!setup.models) throw new Error('ensembles cannot run here: the server gave no model resolver');
    return new EnsembleScheduler(config, version, config.ensemble, stats, setup.models);
  }
  const slotBytes = slotBytesFor(config, VARIABLE_SLOT_BYTES);
  const instances = await InstanceSet.start({ config, version, modelPath, intraOpThreads, slotBytes, log, caller: setup.caller });
  if (config.sequenceBatching) return new SequenceScheduler(config, version, instances, stats);
  const scheduler = config.dynamicBatching
    ? new DynamicBatchScheduler(config, version, instances, stats, tracer)
    : new DirectScheduler(config, version, instances, stats, tracer);
  // Triton caches only where the model enables it and the server has a cache; a model that
  // enables it without one runs uncached (the load's warning names the field).
  return config.responseCache && setup.responseCache ? new CacheScheduler(config.name, version, scheduler, setup.responseCache, stats) : scheduler;
}
