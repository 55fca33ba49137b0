/**
 * Makes a model version's scheduler from its config: starts the instances of every instance
 * group on every device, then picks the scheduler kind. Today every model gets the batch
 * scheduler (BatchScheduler), which runs the dynamic batcher when the config has
 * dynamic_batching and sends requests one at a time otherwise; sequence, ensemble and cache
 * schedulers join here. A factory that fails has stopped whatever it started: no scheduler is
 * ever half-built.
 */
import type { ModelConfig } from '../model-config/index.ts';
import { InstancePool } from '../instance/index.ts';
import type { ModelStatistics, TraceSampler } from '../observability/index.ts';
import { slotBytesFor } from './batch-assembly.ts';
import { BatchScheduler } from './dynamic-batcher.ts';
import type { Scheduler } from './scheduler.ts';

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
}

/** Slot size for models with variable dims (a batch that needs more takes the slow path). */
const VARIABLE_SLOT_BYTES = 4 * 1024 * 1024;

/** Starts the version's instances and returns its scheduler; throws the load error. */
export async function createScheduler(setup: SchedulerSetup): Promise<Scheduler> {
  const { config, version, modelPath: file, intraOpThreads, stats, tracer } = setup;
  const slotBytes = slotBytesFor(config, VARIABLE_SLOT_BYTES);
  const pools: InstancePool[] = [];
  try {
    for (const group of config.instanceGroups) {
      const devices = group.kind === 'KIND_GPU' ? group.gpus.map((id) => ({ kind: 'gpu' as const, id })) : [{ kind: 'cpu' as const }];
      for (const device of devices) {
        pools.push(await InstancePool.create({
          model: config.name,
          version,
          modelPath: file,
          backend: config.backend,
          device,
          intraOpThreads,
          interOpThreads: config.interOpThreads,
        }, group.count, slotBytes, group.name));
      }
    }
  } catch (err) {
    await Promise.all(pools.map((p) => p.close()));
    throw err;
  }
  return new BatchScheduler(config, version, pools, stats, tracer);
}
