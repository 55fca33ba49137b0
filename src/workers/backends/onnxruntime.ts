/**
 * One model instance: an onnxruntime-node session, owned by the worker thread that created it.
 */
import * as ort from 'onnxruntime-node';
import type { IoMetadata, WorkerSetup } from '../protocol.ts';

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

  /**
   * Runs the session. onnxruntime-node's run is a synchronous native call that its JS layer
   * defers with setImmediate, which costs this thread a turn of its event loop (tens of µs, a
   * large part of a small model's run). A worker thread exists only to run its model, so the
   * deferral buys nothing: for the duration of the call, setImmediate runs its callback at once
   * and the native run happens inside session.run(). If a later onnxruntime-node stops using
   * setImmediate, this does nothing at all.
   */
  run(feeds: Record<string, ort.Tensor>, outputs: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
    const deferred = globalThis.setImmediate;
    globalThis.setImmediate = ((callback: () => void) => {
      callback();
    }) as unknown as typeof setImmediate;
    try {
      return this.session.run(feeds, outputs as string[]);
    } finally {
      globalThis.setImmediate = deferred;
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
