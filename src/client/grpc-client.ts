/**
 * A small client for Nereid's (and Triton's) gRPC protocol, used by the tests and the
 * benchmark: health, metadata, config, repository, shared memory, and inference over unary
 * calls or one bidirectional stream. A failed call rejects with grpc-js's ServiceError
 * (`code`, `details`).
 *
 * ModelInfer goes straight on the channel (grpc-unary-call.ts) with the hand-written codec of
 * api/grpc-infer-wire.ts, and may be given a request encoded once and sent many times.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeModelInferResponse, encodeModelInferRequest, type ModelInferRequestInput } from '../protocol/index.ts';
import type { ModelInferRequestMessage, ModelInferResponseMessage, ModelStreamInferResponseMessage } from '../protocol/index.ts';
import { healthClientConstructor, inferenceClientConstructor, INFERENCE_SERVICE, type ModelInferRequestOrBytes } from '../protocol/index.ts';
import { unaryCall, type UnaryCallOptions } from './grpc-unary-call.ts';
import type { ClientShmTensor, ClientTensor } from './http-client.ts';
import { decodeGrpcInferResponse, encodeGrpcInferRequest, type GrpcInferOptions, type GrpcInferResult } from './grpc-tensor-codec.ts';

export interface GrpcClientOptions {
  /** Default: plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /**
   * grpc-js channel options. Defaults: no receive limit, as Triton's client sets it, and
   * channelz off (nothing reads it, and it costs time on every call).
   */
  readonly channelOptions?: grpc.ChannelOptions;
}

const kModelInferPath = `/${INFERENCE_SERVICE}/ModelInfer`;

export interface TensorMetadataResult {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
}

export interface ModelMetadataResult {
  readonly name: string;
  readonly versions: string[];
  readonly platform: string;
  readonly inputs: TensorMetadataResult[];
  readonly outputs: TensorMetadataResult[];
}

type Callback = (err: grpc.ServiceError | null, value?: any) => void;
type UnaryMethod = (request: object, metadata: grpc.Metadata, callback: Callback) => void;

export class GrpcClient {
  private readonly client: grpc.Client;
  private readonly health: grpc.Client;

  /** `address` is "host:port". */
  constructor(readonly address: string, options: GrpcClientOptions = {}) {
    const credentials = options.credentials ?? grpc.credentials.createInsecure();
    const channelOptions = { 'grpc.max_receive_message_length': -1, 'grpc.enable_channelz': 0, ...options.channelOptions };
    this.client = new (inferenceClientConstructor())(address, credentials, channelOptions);
    // The health client shares the inference client's channel (one connection).
    this.health = new (healthClientConstructor())(address, credentials, { channelOverride: this.client.getChannel() });
  }

  /** Calls any unary RPC of GRPCInferenceService with a message as the loader shapes it. */
  call<T = any>(rpc: string, request: object = {}, metadata: grpc.Metadata = new grpc.Metadata()): Promise<T> {
    return unary<T>(this.client, rpc, request, metadata);
  }

  async serverLive(): Promise<boolean> {
    return (await this.call<{ live: boolean }>('ServerLive')).live;
  }

  async serverReady(): Promise<boolean> {
    return (await this.call<{ ready: boolean }>('ServerReady')).ready;
  }

  async modelReady(name: string, version?: string | number): Promise<boolean> {
    return (await this.call<{ ready: boolean }>('ModelReady', { name, version: versionText(version) })).ready;
  }

  serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }> {
    return this.call('ServerMetadata');
  }

  /** Name, versions, platform and tensors, with shapes as numbers. */
  async modelMetadata(name: string, version?: string | number): Promise<ModelMetadataResult> {
    const m = await this.call<ModelMetadataResult>('ModelMetadata', { name, version: versionText(version) });
    const numeric = (t: TensorMetadataResult) => ({ ...t, shape: t.shape.map(Number) });
    return { ...m, inputs: m.inputs.map(numeric), outputs: m.outputs.map(numeric) };
  }

  /** The model's ModelConfig message, as the loader decodes it. */
  async modelConfig(name: string, version?: string | number): Promise<Record<string, any>> {
    return (await this.call<{ config: Record<string, any> }>('ModelConfig', { name, version: versionText(version) })).config;
  }

  modelStatistics(name = '', version?: string | number): Promise<Record<string, any>> {
    return this.call('ModelStatistics', { name, version: versionText(version) });
  }

  async repositoryIndex(ready = false): Promise<{ name: string; version: string; state: string; reason: string }[]> {
    return (await this.call<{ models: { name: string; version: string; state: string; reason: string }[] }>('RepositoryIndex', { ready })).models;
  }

  /** Loads (or reloads) a model; `config` is a JSON ModelConfig, `files` maps 'file:1/model.onnx' to contents. */
  async repositoryModelLoad(name: string, options: { config?: string; files?: Record<string, Uint8Array> } = {}): Promise<void> {
    const parameters: Record<string, object> = {};
    if (options.config !== undefined) parameters.config = { string_param: options.config };
    for (const [key, bytes] of Object.entries(options.files ?? {})) parameters[key] = { bytes_param: Buffer.from(bytes) };
    await this.call('RepositoryModelLoad', { model_name: name, parameters });
  }

  async repositoryModelUnload(name: string, unloadDependents = false): Promise<void> {
    await this.call('RepositoryModelUnload', { model_name: name, parameters: unloadDependents ? { unload_dependents: { bool_param: true } } : {} });
  }

  /** Registered system shared-memory regions by name (all of them when `name` is empty). */
  async systemSharedMemoryStatus(name = ''): Promise<Record<string, { name: string; key: string; offset: string; byte_size: string }>> {
    return (await this.call<{ regions: Record<string, any> }>('SystemSharedMemoryStatus', { name })).regions;
  }

  async systemSharedMemoryRegister(name: string, key: string, byteSize: number, offset = 0): Promise<void> {
    await this.call('SystemSharedMemoryRegister', { name, key, offset, byte_size: byteSize });
  }

  /** Unregisters one region, or every region when `name` is empty. */
  async systemSharedMemoryUnregister(name = ''): Promise<void> {
    await this.call('SystemSharedMemoryUnregister', { name });
  }

  async cudaSharedMemoryStatus(name = ''): Promise<Record<string, { name: string; device_id: string; byte_size: string }>> {
    return (await this.call<{ regions: Record<string, any> }>('CudaSharedMemoryStatus', { name })).regions;
  }

  async cudaSharedMemoryRegister(name: string, rawHandle: Uint8Array, deviceId: number, byteSize: number): Promise<void> {
    await this.call('CudaSharedMemoryRegister', { name, raw_handle: rawHandle, device_id: deviceId, byte_size: byteSize });
  }

  async cudaSharedMemoryUnregister(name = ''): Promise<void> {
    await this.call('CudaSharedMemoryUnregister', { name });
  }

  /**
   * One inference request over a unary call. Inputs may come from registered shared-memory
   * regions (`sharedMemory`), and `options.outputs` may name a region for an output.
   */
  async infer(model: string, inputs: readonly (ClientTensor | ClientShmTensor)[], options: GrpcInferOptions = {}): Promise<GrpcInferResult> {
    return decodeGrpcInferResponse(await this.modelInfer(encodeGrpcInferRequest(model, inputs, options)));
  }

  /**
   * One ModelInfer call with a request message, or with its bytes (encodeModelInferRequest),
   * which saves encoding a request sent many times. Resolves with the response message.
   */
  async modelInfer(request: ModelInferRequestOrBytes, options: UnaryCallOptions = {}): Promise<ModelInferResponseMessage> {
    const bytes = Buffer.isBuffer(request) ? request : encodeModelInferRequest(request as ModelInferRequestInput);
    return decodeModelInferResponse(await unaryCall(this.client.getChannel(), kModelInferPath, bytes, options));
  }

  /** Opens a ModelStreamInfer stream. */
  stream(metadata: grpc.Metadata = new grpc.Metadata()): GrpcInferStream {
    const call = (this.client as unknown as { ModelStreamInfer(md: grpc.Metadata): grpc.ClientDuplexStream<ModelInferRequestMessage, ModelStreamInferResponseMessage> }).ModelStreamInfer(metadata);
    return new GrpcInferStream(call);
  }

  /** grpc.health.v1 Check: 'SERVING', 'NOT_SERVING', ...; rejects NOT_FOUND for an unknown service. */
  async healthCheck(service = ''): Promise<string> {
    return (await unary<{ status: string }>(this.health, 'Check', { service }, new grpc.Metadata())).status;
  }

  close(): void {
    this.health.close();
    this.client.close();
  }
}

/** What one request on a stream came back with: its result, or the error text. */
export interface StreamResult {
  readonly id: string;
  readonly error: string | null;
  readonly result: GrpcInferResult | null;
  /** The response's `triton_final_response` parameter (a decoupled model's responses carry it); null when absent. */
  readonly final: boolean | null;
}

/** A ModelStreamInfer stream: send requests, read their results in order. */
export class GrpcInferStream {
  private readonly received: StreamResult[] = [];
  private readonly waiters: { resolve(r: StreamResult): void; reject(e: Error): void }[] = [];
  private failure: Error | null = null;
  private readonly finished: Promise<void>;

  constructor(private readonly call: grpc.ClientDuplexStream<ModelInferRequestMessage, ModelStreamInferResponseMessage>) {
    call.on('data', (msg: ModelStreamInferResponseMessage) => {
      const id = msg.infer_response?.id ?? '';
      const flag = msg.infer_response?.parameters?.triton_final_response?.bool_param;
      const final = typeof flag === 'boolean' ? flag : null;
      const item: StreamResult = msg.error_message !== ''
        ? { id, error: msg.error_message, result: null, final }
        : { id, error: null, result: decodeGrpcInferResponse(msg.infer_response!), final };
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(item);
      else this.received.push(item);
    });
    this.finished = new Promise<void>((resolve, reject) => {
      call.on('status', (status: grpc.StatusObject) => {
        this.failure = status.code === grpc.status.OK ? new Error('the stream ended') : Object.assign(new Error(status.details), status);
        for (const w of this.waiters.splice(0)) w.reject(this.failure);
        if (status.code === grpc.status.OK) resolve();
        else reject(this.failure);
      });
      // 'error' also fires for a non-OK status; 'status' above settles everything.
      call.on('error', () => {});
    });
    this.finished.catch(() => {});
  }

  /** Sends one inference request (inputs and outputs may use shared-memory regions, as in `infer`). */
  send(model: string, inputs: readonly (ClientTensor | ClientShmTensor)[], options: GrpcInferOptions = {}): void {
    this.call.write(encodeGrpcInferRequest(model, inputs, options));
  }

  /** Sends a request message as the loader shapes it (for hand-made requests), or its bytes. */
  sendMessage(msg: Partial<ModelInferRequestMessage> | Buffer): void {
    this.call.write(msg as ModelInferRequestMessage);
  }

  /** The next result, in request order; rejects when the stream ends first. */
  next(): Promise<StreamResult> {
    const item = this.received.shift();
    if (item) return Promise.resolve(item);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Half-closes the stream and waits for the server to end it; rejects with a non-OK status. */
  end(): Promise<void> {
    this.call.end();
    return this.finished;
  }

  /** Cancels the stream. */
  cancel(): void {
    this.call.cancel();
  }
}

function unary<T>(client: grpc.Client, rpc: string, request: object, metadata: grpc.Metadata): Promise<T> {
  const method = (client as unknown as Record<string, UnaryMethod>)[rpc];
  if (typeof method !== 'function') return Promise.reject(new Error(`no such RPC: ${rpc}`));
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, (err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

const versionText = (version?: string | number): string => (version === undefined ? '' : String(version));
