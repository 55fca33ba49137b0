/**
 * One model instance: an onnxruntime-node session, owned by the worker thread that created it.
 */
import * as ort from 'onnxruntime-node';
import type { IoMetadata, WorkerSetup } from './protocol.ts';

export class OrtInstance {
  private constructor(private readonly session: ort.InferenceSession) {}

  /** Creates the session, on the device named in the setup. */
  static async create(setup: WorkerSetup): Promise<OrtInstance> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: setup.intraOpThreads,
      interOpNumThreads: setup.interOpThreads,
      executionMode: setup.interOpThreads > 1 ? 'parallel' : 'sequential',
      graphOptimizationLevel: 'all',
    };
    if (setup.device.kind === 'gpu') {
      options.executionProviders = [{ name: 'cuda', deviceId: setup.device.id } as ort.InferenceSession.ExecutionProviderConfig];
      try {
        return new OrtInstance(await ort.InferenceSession.create(setup.modelPath, options));
      } catch (err) {
        throw new Error(`KIND_GPU instance on GPU ${setup.device.id} needs onnxruntime's CUDA execution provider, which could not be used here (${(err as Error).message}); install it, or use instance_group { kind: KIND_CPU }`);
      }
    }
    return new OrtInstance(await ort.InferenceSession.create(setup.modelPath, options));
  }

  metadata(): { inputs: IoMetadata[]; outputs: IoMetadata[] } {
    const describe = (m: ort.InferenceSession.ValueMetadata): IoMetadata =>
      m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
    return { inputs: this.session.inputMetadata.map(describe), outputs: this.session.outputMetadata.map(describe) };
  }

  run(feeds: Record<string, ort.Tensor>, outputs: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
    return this.session.run(feeds, outputs as string[]);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
