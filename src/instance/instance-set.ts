/**
 * The instances of one model version: every instance of every instance group on every device,
 * each addressable by name, and the choice of a free one for the next batch.
 */
import { toTritonJson, type ModelConfig } from '../model-config/index.ts';
import { backendCapabilities, type WorkerLogSetup } from '../workers/index.ts';

export type { WorkerLogSetup } from '../workers/index.ts';
import type { ModelCaller, ModelInstance } from './model-instance.ts';
import { PiscinaInstance } from './piscina-instance.ts';

/** What a version's instances are started from. */
export interface InstancesSetup {
  readonly config: ModelConfig;
  readonly version: number;
  /** Absolute path of the version's model file. */
  readonly modelPath: string;
  /** The runtime's intra-op threads per instance. */
  readonly intraOpThreads: number;
  /** Bytes per tensor-ring slot. */
  readonly slotBytes: number;
  /** Where the instances' workers log (absent: nowhere). */
  readonly log?: WorkerLogSetup | null;
  /** Runs the instances' calls to other models (absent: a model cannot make any). */
  readonly caller?: ModelCaller;
}

export class InstanceSet {
  /** Instances by group and device, in config order: the unit of "least loaded". */
  private readonly placements: readonly (readonly ModelInstance[])[];
  private readonly byNameMap: ReadonlyMap<string, ModelInstance>;

  constructor(readonly all: readonly ModelInstance[]) {
    const placements = new Map<string, ModelInstance[]>();
    for (const instance of all) {
      const key = `${instance.group}\u0000${instance.device}`;
      const list = placements.get(key) ?? [];
      list.push(instance);
      placements.set(key, list);
    }
    this.placements = [...placements.values()];
    this.byNameMap = new Map(all.map((i) => [i.name, i]));
  }

  /**
   * Starts every instance the config asks for, side by side; throws the first load error, after
   * closing whatever had started, so no set is ever half-built.
   */
  static async start(setup: InstancesSetup): Promise<InstanceSet> {
    const { config, version, modelPath, intraOpThreads, slotBytes } = setup;
    const log = setup.log ?? null;
    // The config as its endpoint reports it, for a backend that hands it to the model (JavaScript).
    const json = config.backend === 'onnxruntime' ? undefined : toTritonJson(config.raw);
    // The form the primary holds BYTES elements in for this backend (bytes-elements.ts).
    const bytesForm = backendCapabilities(config.backend).rawBytes ? 'binary' as const : 'text' as const;
    const starting: Promise<ModelInstance>[] = [];
    for (const group of config.instanceGroups) {
      const devices = group.kind === 'KIND_GPU' ? group.gpus.map((id) => ({ kind: 'gpu' as const, id })) : [{ kind: 'cpu' as const }];
      let k = 0;
      for (const device of devices) {
        for (let c = 0; c < group.count; c++) {
          starting.push(PiscinaInstance.start(
            { model: config.name, version, modelPath, backend: config.backend, device, intraOpThreads, interOpThreads: config.interOpThreads, log, logVerbose: log?.verbose ?? 0, config: json, bytesForm },
            slotBytes,
            { name: `${group.name}_${k++}`, group: group.name },
            setup.caller,
          ));
        }
      }
    }
    const results = await Promise.allSettled(starting);
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await Promise.all(started.map((i) => i.close()));
      throw failure.reason;
    }
    return new InstanceSet(started);
  }

  /** The instance called `name`, or undefined. */
  byName(name: string): ModelInstance | undefined {
    return this.byNameMap.get(name);
  }

  /**
   * A free instance of the group and device with the largest share of free instances (so load
   * spreads over groups and devices as their sizes say), or null when every instance is busy.
   */
  pickFree(): ModelInstance | null {
    let best: ModelInstance | null = null;
    let bestShare = 0;
    for (const instances of this.placements) {
      let free = 0;
      let first: ModelInstance | null = null;
      for (const instance of instances) {
        if (instance.busy) continue;
        free++;
        first ??= instance;
      }
      const share = free / instances.length;
      if (share > bestShare) {
        best = first;
        bestShare = share;
      }
    }
    return best;
  }

  /** Waits for running batches, then stops every instance. */
  async close(): Promise<void> {
    await Promise.all(this.all.map((i) => i.close()));
  }
}
