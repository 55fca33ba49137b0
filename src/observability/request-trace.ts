/**
 * One sampled request's trace, built as the scheduler passes its points, and written out in
 * Triton's JSON form: a head item `{"id", "model_name", "model_version", "request_id"}`, one
 * item per timestamp `{"id", "timestamps": [{"name", "ns"}]}`, and with TENSORS one item per
 * tensor `{"id", "activity", "tensor": {"name", "data", "shape", "dtype"}}`.
 *
 * Only sampled requests own one; the scheduler checks for null and does nothing else for the
 * rest. Timestamps are ns on the process.hrtime clock (monotonic, like Triton's steady clock),
 * written from the bigint so they stay exact past 2^53.
 */
import { bfloatToFloat, datatypeFromWire, halfToFloat } from '../dtypes.ts';
import { copyNumeric, numericByteLength, type InferOutput, type InferInput, type TensorData } from '../inference/index.ts';

/** The points of a request's life, in the order they happen (Triton's activity names). */
type TraceActivity =
  | 'REQUEST_START' | 'QUEUE_START' | 'COMPUTE_START' | 'COMPUTE_INPUT_END'
  | 'COMPUTE_OUTPUT_START' | 'COMPUTE_END' | 'REQUEST_END';

/** Where a finished trace goes (the trace manager, which writes it with its setting's frequency). */
type TraceSink = (trace: RequestTrace) => void;

export class RequestTrace {
  /** JSON items, in order; joined with ',' inside the file's array. */
  readonly items: string[] = [];
  private ended = false;

  constructor(
    readonly id: number,
    model: string,
    version: number,
    requestId: string | undefined,
    private readonly timestamps: boolean,
    /** TENSORS: record the request's inputs as queued and its outputs as produced. */
    readonly tensors: boolean,
    readonly logFrequency: number,
    private readonly sink: TraceSink,
  ) {
    const rid = requestId ? `,"request_id":${JSON.stringify(requestId)}` : '';
    this.items.push(`{"id":${id},"model_name":${JSON.stringify(model)},"model_version":${version}${rid}}`);
  }

  /** Records that the request reached `activity` at `ns`. */
  stamp(activity: TraceActivity, ns: bigint): void {
    if (this.timestamps) this.items.push(`{"id":${this.id},"timestamps":[{"name":"${activity}","ns":${ns}}]}`);
  }

  /** TENSORS: the request's inputs as they entered the queue (TENSOR_QUEUE_INPUT). */
  queueInputs(inputs: readonly InferInput[]): void {
    for (const t of inputs) this.tensor('TENSOR_QUEUE_INPUT', t.name, t.datatype, t.shape, t.data);
  }

  /** TENSORS: the request's outputs as the model produced them (TENSOR_BACKEND_OUTPUT). */
  backendOutputs(outputs: readonly InferOutput[]): void {
    for (const t of outputs) {
      const data: TensorData = Array.isArray(t.data) ? { kind: 'strings', strings: t.data } : { kind: 'raw', bytes: new Uint8Array(t.data) };
      this.tensor('TENSOR_BACKEND_OUTPUT', t.name, t.datatype.wire, t.shape, data);
    }
  }

  /** Stamps REQUEST_END and hands the trace to its sink; later calls do nothing. */
  end(ns: bigint): void {
    if (this.ended) return;
    this.ended = true;
    this.stamp('REQUEST_END', ns);
    this.sink(this);
  }

  private tensor(activity: string, name: string, datatype: string, shape: readonly number[], data: TensorData): void {
    const tensor = `{"name":${JSON.stringify(name)},"data":${JSON.stringify(tensorText(datatype, data))},"shape":"${shape.join(',')}","dtype":"${datatype}"}`;
    this.items.push(`{"id":${this.id},"activity":"${activity}","tensor":${tensor}}`);
  }
}

/** Tensor values as Triton's trace writes them: comma-separated, strings as they are. */
export function tensorText(datatype: string, data: TensorData): string {
  if (data.kind === 'strings') return data.strings.join(',');
  const info = datatypeFromWire(datatype);
  if (!info?.array) return '';
  let bytes: Uint8Array;
  if (data.kind === 'raw') {
    bytes = data.bytes;
  } else {
    // A region input is read once more for the trace; a failed read fails the request, as the
    // batcher's read would.
    bytes = new Uint8Array(numericByteLength(data));
    copyNumeric(data, bytes);
  }
  // Copy to an aligned buffer: a view at an odd offset cannot be typed as wider elements.
  const aligned = bytes.byteOffset % info.byteSize === 0 ? bytes : bytes.slice();
  const values = new info.array(aligned.buffer, aligned.byteOffset, aligned.byteLength / info.byteSize);
  const out: string[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = info.json === 'half' ? String(halfToFloat(v as number))
      : info.json === 'bfloat' ? String(bfloatToFloat(v as number))
        : String(v);
  }
  return out.join(',');
}
