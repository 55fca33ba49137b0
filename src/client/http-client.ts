/**
 * A small client for Nereid's (and Triton's) HTTP/REST protocol, used by the tests and the
 * benchmark: health, metadata, config, and inference with JSON or binary tensors.
 */
import { encodeBytesElements, decodeBytesElements } from '../api/codec-binary-tensor.ts';
import { datatypeFromWire, elementCount } from '../dtypes.ts';

export interface ClientTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  /** Numbers (or bigints, booleans, strings), or a typed array of the raw values. */
  readonly data: ArrayLike<unknown> | ArrayBufferView;
}

export interface InferOptions {
  readonly id?: string;
  readonly version?: string | number;
  /** Send inputs in the binary tensor extension instead of JSON. */
  readonly binaryInputs?: boolean;
  /** Ask for every output in binary. */
  readonly binaryOutputs?: boolean;
  /** Names of the outputs to return (default: all). */
  readonly outputs?: readonly string[];
  readonly parameters?: Record<string, unknown>;
}

export interface ClientOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  /** JSON values, or for binary outputs the decoded values (typed array, or strings for BYTES). */
  readonly data: unknown[] | ArrayBufferView | string[];
}

export interface InferResult {
  readonly id?: string;
  readonly model_name: string;
  readonly model_version: string;
  readonly outputs: ClientOutput[];
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async isLive(): Promise<boolean> {
    return (await fetch(`${this.baseUrl}/v2/health/live`)).status === 200;
  }

  async isReady(): Promise<boolean> {
    return (await fetch(`${this.baseUrl}/v2/health/ready`)).status === 200;
  }

  async isModelReady(model: string, version?: string | number): Promise<boolean> {
    return (await fetch(`${this.baseUrl}${modelPath(model, version)}/ready`)).status === 200;
  }

  async serverMetadata(): Promise<Record<string, unknown>> {
    return this.getJson('/v2');
  }

  async modelMetadata(model: string, version?: string | number): Promise<Record<string, unknown>> {
    return this.getJson(modelPath(model, version));
  }

  async modelConfig(model: string, version?: string | number): Promise<Record<string, unknown>> {
    return this.getJson(`${modelPath(model, version)}/config`);
  }

  async infer(model: string, inputs: readonly ClientTensor[], options: InferOptions = {}): Promise<InferResult> {
    const { body, headers } = encodeInferRequest(inputs, options);
    const res = await fetch(`${this.baseUrl}${modelPath(model, options.version)}/infer`, { method: 'POST', body: body as unknown as BodyInit, headers });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new HttpError(res.status, errorText(bytes));
    return decodeInferResponse(bytes, res.headers.get('inference-header-content-length'));
  }

  private async getJson(path: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.baseUrl}${path}`);
    const text = await res.text();
    if (res.status !== 200) throw new HttpError(res.status, errorText(Buffer.from(text)));
    return JSON.parse(text) as Record<string, unknown>;
  }
}

function modelPath(model: string, version?: string | number): string {
  const base = `/v2/models/${encodeURIComponent(model)}`;
  return version === undefined ? base : `${base}/versions/${version}`;
}

function errorText(bytes: Buffer): string {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { error?: string }).error ?? bytes.toString('utf8');
  } catch {
    return bytes.toString('utf8');
  }
}

/** The raw little-endian bytes of a tensor, as the binary extension carries them. */
export function tensorBytes(t: ClientTensor): Buffer {
  const dt = datatypeFromWire(t.datatype);
  if (!dt) throw new Error(`unknown datatype ${t.datatype}`);
  if (dt.wire === 'BYTES') return encodeBytesElements(Array.from(t.data as ArrayLike<unknown>, String));
  if (ArrayBuffer.isView(t.data)) return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const values = Array.from(t.data as ArrayLike<unknown>);
  const arr = new dt.array!(new ArrayBuffer(values.length * dt.byteSize));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    (arr as unknown as unknown[])[i] = dt.json === 'bigint' ? BigInt(v as number) : dt.json === 'bool' ? (v ? 1 : 0) : v;
  }
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
}

export function encodeInferRequest(inputs: readonly ClientTensor[], options: InferOptions): { body: Buffer; headers: Record<string, string> } {
  const parts: Buffer[] = [];
  const header: Record<string, unknown> = {
    inputs: inputs.map((t) => {
      const base = { name: t.name, datatype: t.datatype, shape: t.shape };
      if (options.binaryInputs) {
        const bytes = tensorBytes(t);
        parts.push(bytes);
        return { ...base, parameters: { binary_data_size: bytes.length } };
      }
      const data = ArrayBuffer.isView(t.data) ? Array.from(t.data as unknown as ArrayLike<unknown>) : Array.from(t.data as ArrayLike<unknown>);
      return { ...base, data: data.map((v) => (typeof v === 'bigint' ? Number(v) : v)) };
    }),
  };
  if (options.id !== undefined) header.id = options.id;
  if (options.outputs) header.outputs = options.outputs.map((name) => ({ name, parameters: { binary_data: Boolean(options.binaryOutputs) } }));
  const params = { ...(options.parameters ?? {}) };
  if (options.binaryOutputs && !options.outputs) params.binary_data_output = true;
  if (Object.keys(params).length > 0) header.parameters = params;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (parts.length === 0) return { body: json, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([json, ...parts]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
  };
}

export function decodeInferResponse(bytes: Buffer, headerLength: string | null): InferResult {
  const jsonLength = headerLength === null ? bytes.length : Number(headerLength);
  const result = JSON.parse(bytes.subarray(0, jsonLength).toString('utf8')) as InferResult & { outputs: (ClientOutput & { parameters?: { binary_data_size?: number } })[] };
  let offset = jsonLength;
  for (const out of result.outputs) {
    const size = out.parameters?.binary_data_size;
    if (size === undefined) continue;
    const slice = bytes.subarray(offset, offset + size);
    offset += size;
    const dt = datatypeFromWire(out.datatype)!;
    const data = dt.wire === 'BYTES'
      ? decodeBytesElements(slice, elementCount(out.shape), out.name)
      : new dt.array!(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength));
    (out as { data: unknown }).data = data;
  }
  return result;
}
