/**
 * The onnxruntime backend: one onnxruntime-node session, owned by the worker thread that created
 * it. The only module where the runtime's own types (ort.Tensor, ort.InferenceSession) appear.
 */
import * as ort from 'onnxruntime-node';
import type { Backend, BackendMetadata, BackendSetup, HostTensor, HostTensors, IoMetadata } from './backend.ts';

/** onnxruntime's severities, from 0 (verbose) to 4 (fatal). */
const ORT_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/**
 * onnxruntime writes its own log lines straight to stderr from native code, in its own format,
 * and onnxruntime-node offers no callback to take them: they cannot go through the server's
 * logger. So they are silenced (fatal only) unless --log-verbose asks for them: warnings at 1,
 * info at 2, everything at 3 and up. Errors still reach the log: a failed load or run is
 * reported by the server with onnxruntime's message.
 */
export function ortLogSeverity(verbose: number): 0 | 1 | 2 | 3 | 4 {
  return verbose <= 0 ? 4 : verbose === 1 ? 2 : verbose === 2 ? 1 : 0;
}

/** The backend registry's entry point for 'onnxruntime'. */
export function createBackend(): Backend {
  return new OnnxruntimeBackend();
}

export class OnnxruntimeBackend implements Backend {
  private session: ort.InferenceSession | null = null;

  /** Creates the session, on the device named in the setup. */
  async load(setup: BackendSetup): Promise<BackendMetadata> {
    const severity = ortLogSeverity(setup.logVerbose ?? 0);
    // The runtime's environment takes its level from the first session made in the process;
    // each session's own level covers the rest.
    ort.env.logLevel = ORT_LEVELS[severity];
    const options: ort.InferenceSession.SessionOptions = {
      logSeverityLevel: severity,
      intraOpNumThreads: setup.intraOpThreads,
      interOpNumThreads: setup.interOpThreads,
      executionMode: setup.interOpThreads > 1 ? 'parallel' : 'sequential',
      graphOptimizationLevel: 'all',
    };
    if (setup.device.kind === 'gpu') {
      options.executionProviders = [{ name: 'cuda', deviceId: setup.device.id } as ort.InferenceSession.ExecutionProviderConfig];
      try {
        this.session = await ort.InferenceSession.create(setup.modelPath, options);
      } catch (err) {
        throw new Error(`KIND_GPU instance on GPU ${setup.device.id} needs onnxruntime's CUDA execution provider, which could not be used here (${(err as Error).message}); install it as docs/install.md#gpu says, or use instance_group { kind: KIND_CPU }`);
      }
    } else {
      this.session = await ort.InferenceSession.create(setup.modelPath, options);
    }
    const describe = (m: ort.InferenceSession.ValueMetadata): IoMetadata =>
      m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
    return { inputs: this.session.inputMetadata.map(describe), outputs: this.session.outputMetadata.map(describe) };
  }

  /**
   * Not an async function, and no Object.entries: this runs once per batch on the worker, and
   * each await and array it saves is a little less between a batch's arrival and its run.
   */
  execute(inputs: HostTensors, outputs: readonly string[]): Promise<HostTensors> {
    let session: ort.InferenceSession;
    const feeds: Record<string, ort.Tensor> = {};
    try {
      session = this.loaded();
      for (const name in inputs) {
        const t = inputs[name];
        // ort.Tensor keeps a reference to the typed array (no copy); its constructor's overloads
        // are per type, hence the casts.
        feeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return runNow(session, feeds, outputs).then((results) => {
      const out: Record<string, HostTensor> = {};
      for (const name of outputs) {
        const tensor = results[name];
        if (tensor) out[name] = { type: tensor.type, dims: tensor.dims, data: tensor.data } as HostTensor;
      }
      return out;
    });
  }

  async unload(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.release();
  }

  private loaded(): ort.InferenceSession {
    if (!this.session) throw new Error('the onnxruntime session is not loaded');
    return this.session;
  }
}

/**
 * Runs the session. onnxruntime-node's run is a synchronous native call that its JS layer
 * defers with setImmediate, which costs this thread a turn of its event loop (tens of µs, a
 * large part of a small model's run). A worker thread exists only to run its model, so the
 * deferral buys nothing: for the duration of the call, setImmediate runs its callback at once
 * and the native run happens inside session.run(). If a later onnxruntime-node stops using
 * setImmediate, this does nothing at all.
 */
function runNow(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, outputs: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
  const deferred = globalThis.setImmediate;
  globalThis.setImmediate = ((callback: () => void) => {
    callback();
  }) as unknown as typeof setImmediate;
  try {
    return session.run(feeds, outputs as string[]);
  } finally {
    globalThis.setImmediate = deferred;
  }
}
