/**
 * One model instance: an onnxruntime-node session, owned by the worker thread that created it.
 */
import * as ort from 'onnxruntime-node';
import type { IoMetadata, WireTensor, WorkerSetup } from './protocol.ts';

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

  /** Runs one batch. Input buffers are used in place (they were moved to this thread). */
  async run(inputs: readonly WireTensor[], outputs: readonly string[]): Promise<WireTensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) {
      feeds[t.name] = toOrtTensor(t);
    }
    const result = await this.session.run(feeds, outputs as string[]);
    return outputs.map((name) => fromOrtTensor(name, result[name]));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

const arrayFor: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, uint64: BigUint64Array, int64: BigInt64Array,
  float16: Uint16Array, float32: Float32Array, float64: Float64Array,
};

function toOrtTensor(t: WireTensor): ort.Tensor {
  if (t.type === 'string') {
    return new ort.Tensor('string', t.data as string[], t.dims);
  }
  const Ctor = arrayFor[t.type];
  if (!Ctor) throw new Error(`tensor type '${t.type}' is not supported by onnxruntime-node`);
  return new ort.Tensor(t.type as 'float32', new Ctor(t.data as ArrayBuffer) as Float32Array, t.dims);
}

function fromOrtTensor(name: string, tensor: ort.Tensor | undefined): WireTensor {
  if (!tensor) throw new Error(`the model produced no output '${name}'`);
  if (tensor.type === 'string') {
    return { name, type: 'string', dims: [...tensor.dims], data: tensor.data as string[] };
  }
  const view = tensor.data as ArrayBufferView;
  // Move the whole buffer when the view covers it (the usual case); else copy just the view.
  const data = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer
    ? view.buffer
    : view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
  return { name, type: tensor.type, dims: [...tensor.dims], data };
}
