/**
 * A small client for Nereid's (and Triton's) HTTP/REST protocol, used by the tests and the
 * benchmark: health, metadata, config, inference with JSON, binary or shared-memory tensors, and
 * the shared-memory registration calls (see shm-client.ts for the regions themselves).
 */
import { encodeBytesElements, decodeBytesElements } from '../bytes-elements.ts';
import { datatypeFromWire, elementCount } from '../dtypes.ts';

export interface ClientTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  /** Numbers (or bigints, booleans, strings), or a typed array of the raw values. */
  readonly data: ArrayLike<unknown> | ArrayBufferView;
}

/** Where a tensor's bytes lie in a registered shared-memory region. */
export interface SharedMemoryRef {
  readonly region: string;
  readonly byteSize: number;
  /** Offset within the region, in bytes (default 0). */
  readonly offset?: number;
}

/** An input whose bytes the server reads from a registered shared-memory region. */
export interface ClientShmTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly sharedMemory: SharedMemoryRef;
}

/** An output asked for by name, optionally written into a shared-memory region instead of the response. */
export interface RequestedClientOutput {
  readonly name: string;
  readonly sharedMemory?: SharedMemoryRef;
  /** Classification: the top `classCount` classes as BYTES strings `value:index[:label]`. */
  readonly classCount?: number;
}

/** The status of a registered system shared-memory region, as the server reports it. */
export interface SystemShmStatus {
  readonly name: string;
  readonly key: string;
  readonly offset: number;
  readonly byte_size: number;
}

export interface InferOptions {
  readonly id?: string;
  readonly version?: string | number;
  /** Send inputs in the binary tensor extension instead of JSON. */
  readonly binaryInputs?: boolean;
  /** Ask for every output in binary. */
  readonly binaryOutputs?: boolean;
  /** The outputs to return (default: all), by name, or with a shared-memory region to write into. */
  readonly outputs?: readonly (string | RequestedClientOutput)[];
  readonly parameters?: Record<string, unknown>;
}

export interface ClientOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  /**
   * JSON values, or for binary outputs the decoded values (typed array, or strings for BYTES);
   * empty for an output written into shared memory (read it from the region).
   */
  readonly data: unknown[] | ArrayBufferView | string[];
  /** For an output in shared memory: shared_memory_region, shared_memory_byte_size (bytes written), shared_memory_offset. */
  readonly parameters?: Record<string, unknown>;
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

  async infer(model: string, inputs: readonly (ClientTensor | ClientShmTensor)[], options: InferOptions = {}): Promise<InferResult> {
    const { body, headers } = encodeInferRequest(inputs, options);
    const res = await fetch(`${this.baseUrl}${modelPath(model, options.version)}/infer`, { method: 'POST', body: body as unknown as BodyInit, headers });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new HttpError(res.status, errorText(bytes));
    return decodeInferResponse(bytes, res.headers.get('inference-header-content-length'));
  }

  /** Registers `byteSize` bytes at `offset` of the shared-memory object `key` (e.g. '/input0') as region `name`. */
  async registerSystemSharedMemory(name: string, key: string, byteSize: number, offset = 0): Promise<void> {
    await this.post(`/v2/systemsharedmemory/region/${encodeURIComponent(name)}/register`, { key, offset, byte_size: byteSize });
  }

  /** Unregisters one region, or every region when no name is given. */
  async unregisterSystemSharedMemory(name?: string): Promise<void> {
    await this.post(name === undefined ? '/v2/systemsharedmemory/unregister' : `/v2/systemsharedmemory/region/${encodeURIComponent(name)}/unregister`);
  }

  /** Every registered region's status, or the named region's. */
  async systemSharedMemoryStatus(name?: string): Promise<SystemShmStatus[]> {
    return this.getJson(name === undefined ? '/v2/systemsharedmemory/status' : `/v2/systemsharedmemory/region/${encodeURIComponent(name)}/status`) as Promise<unknown> as Promise<SystemShmStatus[]>;
  }

  /** Registers a CUDA IPC handle (base64) as region `name`. */
  async registerCudaSharedMemory(name: string, rawHandleBase64: string, deviceId: number, byteSize: number): Promise<void> {
    await this.post(`/v2/cudasharedmemory/region/${encodeURIComponent(name)}/register`, { raw_handle: { b64: rawHandleBase64 }, device_id: deviceId, byte_size: byteSize });
  }

  /** Unregisters one CUDA region, or every one when no name is given. */
  async unregisterCudaSharedMemory(name?: string): Promise<void> {
    await this.post(name === undefined ? '/v2/cudasharedmemory/unregister' : `/v2/cudasharedmemory/region/${encodeURIComponent(name)}/unregister`);
  }

  /** Every registered CUDA region's status ({name, device_id, byte_size}), or the named one's. */
  async cudaSharedMemoryStatus(name?: string): Promise<Record<string, unknown>[]> {
    return this.getJson(name === undefined ? '/v2/cudasharedmemory/status' : `/v2/cudasharedmemory/region/${encodeURIComponent(name)}/status`) as Promise<unknown> as Promise<Record<string, unknown>[]>;
  }

  private async getJson(path: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.baseUrl}${path}`);
    const text = await res.text();
    if (res.status !== 200) throw new HttpError(res.status, errorText(Buffer.from(text)));
    return JSON.parse(text) as Record<string, unknown>;
  }

  private async post(path: string, body?: unknown): Promise<void> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new HttpError(res.status, errorText(bytes));
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

/** The request parameters naming a shared-memory range. */
export function sharedMemoryParameters(ref: SharedMemoryRef): Record<string, string | number> {
  return { shared_memory_region: ref.region, shared_memory_byte_size: ref.byteSize, ...(ref.offset ? { shared_memory_offset: ref.offset } : {}) };
}

export function encodeInferRequest(inputs: readonly (ClientTensor | ClientShmTensor)[], options: InferOptions): { body: Buffer; headers: Record<string, string> } {
  const parts: Buffer[] = [];
  const header: Record<string, unknown> = {
    inputs: inputs.map((t) => {
      const base = { name: t.name, datatype: t.datatype, shape: t.shape };
      if ('sharedMemory' in t) return { ...base, parameters: sharedMemoryParameters(t.sharedMemory) };
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
  if (options.outputs) {
    header.outputs = options.outputs.map((o) => {
      const { name, sharedMemory, classCount } = typeof o === 'string' ? { name: o, sharedMemory: undefined, classCount: undefined } : o;
      if (sharedMemory) return { name, parameters: sharedMemoryParameters(sharedMemory) };
      return { name, parameters: { binary_data: Boolean(options.binaryOutputs), ...(classCount ? { classification: classCount } : {}) } };
    });
  }
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
    if (out.data === undefined && size === undefined) (out as { data: unknown }).data = []; // in shared memory
    if (size === undefined) continue;
    const slice = bytes.subarray(offset, offset + size);
    offset += size;
    const dt = datatypeFromWire(out.datatype)!;
    const data = dt.wire === 'BYTES'
      ? decodeBytesElements(slice, elementCount(out.shape), out.name, 'lossy')
      : new dt.array!(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength));
    (out as { data: unknown }).data = data;
  }
  return result;
}
