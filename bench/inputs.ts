/**
 * The requests' input tensors, derived from the model's metadata and configuration (so any model
 * works): every input gets its dims (variable ones from --shape), the batch dim when the model
 * batches, and data (zeros, random values, or the entries of a perf_analyzer JSON data file).
 */
import { readFileSync } from 'node:fs';
import type { ClientTensor } from '../src/client/index.ts';
import { datatypeFromWire } from '../src/dtypes.ts';
import type { InputData } from './options.ts';

export interface TensorInfo {
  readonly name: string;
  readonly datatype: string;
  /** Dims without the batch dim; -1 where variable. */
  readonly dims: readonly number[];
}

/** What the client needs to know of a model to build requests. */
export interface ModelInfo {
  readonly name: string;
  /** 0: the model does not batch, its tensors' shapes are the dims themselves. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

async function getJson(url: string): Promise<Record<string, any>> {
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

/** The model's metadata (GET /v2/models/{m}) and max_batch_size (GET .../config), over HTTP. */
export async function fetchModelInfo(httpUrl: string, model: string, version: string | null): Promise<ModelInfo> {
  const base = `${httpUrl}/v2/models/${encodeURIComponent(model)}${version === null ? '' : `/versions/${encodeURIComponent(version)}`}`;
  const [metadata, config] = await Promise.all([getJson(base), getJson(`${base}/config`)]);
  const maxBatchSize = Number(config.max_batch_size ?? 0);
  const tensors = (list: { name: string; datatype: string; shape: (number | string)[] }[]): TensorInfo[] =>
    list.map((t) => ({ name: t.name, datatype: t.datatype, dims: t.shape.map(Number).slice(maxBatchSize > 0 ? 1 : 0) }));
  return { name: model, maxBatchSize, inputs: tensors(metadata.inputs), outputs: tensors(metadata.outputs) };
}

/** Each input's dims with variable ones filled from --shape; an error names an input left variable. */
export function resolveDims(inputs: readonly TensorInfo[], shapes: Readonly<Record<string, readonly number[]>>): TensorInfo[] {
  for (const name of Object.keys(shapes)) {
    if (!inputs.some((t) => t.name === name)) throw new RangeError(`--shape names '${name}', which is not an input of the model (inputs: ${inputs.map((t) => t.name).join(', ')})`);
  }
  return inputs.map((t) => {
    const given = shapes[t.name];
    if (given) {
      if (given.length !== t.dims.length || given.some((d, i) => t.dims[i] !== -1 && t.dims[i] !== d)) {
        throw new RangeError(`--shape ${t.name}:${given.join(',')} does not fit the input's dims [${t.dims.join(',')}] (give every dim, without the batch dim)`);
      }
      return { ...t, dims: [...given] };
    }
    if (t.dims.some((d) => d < 0)) throw new RangeError(`input '${t.name}' has variable dims [${t.dims.join(',')}]: give them with --shape ${t.name}:d1,d2,...`);
    return t;
  });
}

const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** xorshift32 in [0, 1): the same "random" data every run. */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function generated(t: TensorInfo, n: number, kind: 'zeros' | 'random', next: () => number): unknown[] {
  const dt = datatypeFromWire(t.datatype);
  if (!dt) throw new RangeError(`input '${t.name}' has unknown datatype ${t.datatype}`);
  return Array.from({ length: n }, () => {
    if (dt.wire === 'BYTES') return kind === 'zeros' ? '0' : next().toString(36).slice(2, 10);
    if (dt.wire === 'BOOL') return kind === 'random' && next() < 0.5;
    if (kind === 'zeros') return 0;
    if (dt.wire === 'FP32' || dt.wire === 'FP64') return next();
    return Math.floor(next() * 100); // small integers fit every integer type, and half-float bits stay finite
  });
}

/** One data entry of a perf_analyzer JSON data file, for one input: values and dims (without the batch dim). */
function fromFile(t: TensorInfo, entry: Record<string, unknown>, index: number, file: string): { values: unknown[]; dims: number[] } {
  const value = entry[t.name];
  if (value === undefined) throw new RangeError(`${file}: data entry ${index} has no '${t.name}'`);
  if (Array.isArray(value)) return { values: value.flat(Infinity), dims: [...t.dims] };
  if (typeof value === 'object' && value !== null && Array.isArray((value as { content?: unknown }).content)) {
    const { content, shape } = value as { content: unknown[]; shape?: number[] };
    return { values: content.flat(Infinity), dims: shape ? shape.map(Number) : [...t.dims] };
  }
  throw new RangeError(`${file}: data entry ${index} '${t.name}' must be an array or {"content": [...], "shape": [...]}`);
}

/**
 * The request inputs, one set per data entry (zeros and random give one set): each tensor's
 * shape is [batch, ...dims] when the model batches, and a batch repeats the entry's values.
 */
export function buildInputSets(model: ModelInfo, dimsByInput: readonly TensorInfo[], data: InputData, batchSize: number): ClientTensor[][] {
  if (model.maxBatchSize === 0 && batchSize !== 1) throw new RangeError(`model '${model.name}' does not batch (max_batch_size 0): --batch-size must be 1`);
  if (model.maxBatchSize > 0 && batchSize > model.maxBatchSize) throw new RangeError(`--batch-size ${batchSize} is above model '${model.name}''s max_batch_size ${model.maxBatchSize}`);
  const tensor = (t: TensorInfo, values: unknown[], dims: readonly number[]): ClientTensor => {
    if (values.length !== count(dims)) throw new RangeError(`input '${t.name}': ${values.length} values do not fill dims [${dims.join(',')}]`);
    const batched = model.maxBatchSize > 0;
    return {
      name: t.name,
      datatype: t.datatype,
      shape: batched ? [batchSize, ...dims] : [...dims],
      data: batched && batchSize > 1 ? Array.from({ length: batchSize }, () => values).flat() : values,
    };
  };
  if (data.kind !== 'file') {
    const next = generator(12345);
    return [dimsByInput.map((t) => tensor(t, generated(t, count(t.dims), data.kind, next), t.dims))];
  }
  const parsed = JSON.parse(readFileSync(data.path, 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data) || parsed.data.length === 0) throw new RangeError(`${data.path}: expected {"data": [ {<input>: [...]}, ... ]} with at least one entry`);
  return parsed.data.map((entry, i) => {
    // perf_analyzer also accepts a list of steps per entry (sequences); the first step stands for the entry.
    const one = (Array.isArray(entry) ? entry[0] : entry) as Record<string, unknown>;
    return dimsByInput.map((t) => {
      const { values, dims } = fromFile(t, one, i, data.path);
      return tensor(t, values, dims);
    });
  });
}
