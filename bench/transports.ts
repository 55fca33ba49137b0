/**
 * How the benchmark client sends one request, per protocol, over keep-alive connection pools:
 * undici for HTTP (JSON or binary tensors, and system shared memory, whose requests are HTTP
 * bodies that only name regions), @grpc/grpc-js for gRPC. Requests are encoded once, before the
 * load starts, and sent again and again: the client's CPU goes to the wire, not to encoding.
 */
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { encodeGrpcInferRequest, encodeInferRequest, HttpClient, SharedMemoryRegion, tensorBytes, type ClientShmTensor, type ClientTensor, type RequestedClientOutput } from '../src/client/index.ts';
import { inferenceServiceDefinition } from '../src/protocol/grpc-proto.ts';
import { datatypeFromWire } from '../src/dtypes.ts';
import type { TensorInfo } from './inputs.ts';
import type { LoadProtocol } from './options.ts';

/** Sends one request; resolves true for a good answer, false (never rejects) for a failed one. */
export type Send = () => Promise<boolean>;

export interface Transport {
  readonly protocol: LoadProtocol;
  /** The sender for client `slot` (0 ≤ slot < slots): it cycles through the input sets. */
  sender(slot: number): Send;
  close(): Promise<void>;
}

export interface TransportTarget {
  /** http://host:port */
  readonly httpUrl: string;
  /** host:port; needed for grpc. */
  readonly grpcAddress: string | null;
  readonly model: string;
  readonly version: string | null;
  /** The outputs' dims without the batch dim (-1 where variable), for shared-memory outputs. */
  readonly outputs: readonly TensorInfo[];
  readonly batched: boolean;
  readonly batchSize: number;
  /** Bytes per output in shared memory where its size cannot be known ahead. */
  readonly outputSharedMemorySize: number;
}

let regionCounter = 0;

/** Opens connections (or a region) for `slots` clients sending `inputSets` in turn. */
export async function openTransport(protocol: LoadProtocol, target: TransportTarget, inputSets: readonly ClientTensor[][], slots: number): Promise<Transport> {
  const inferPath = `/v2/models/${encodeURIComponent(target.model)}${target.version === null ? '' : `/versions/${encodeURIComponent(target.version)}`}/infer`;
  if (protocol === 'grpc') return grpcTransport(target, inputSets);
  const pool = new Pool(target.httpUrl, { connections: slots, pipelining: 1, keepAliveTimeout: 60_000 });
  const post = async (body: Buffer, headers: Record<string, string>): Promise<boolean> => {
    try {
      const res = await pool.request({ path: inferPath, method: 'POST', headers, body });
      for await (const _ of res.body); // read the whole answer, as a client would
      return res.statusCode === 200;
    } catch {
      return false;
    }
  };
  if (protocol === 'http-json' || protocol === 'http-binary') {
    const binary = protocol === 'http-binary';
    const requests = inputSets.map((set) => encodeInferRequest(set, { binaryInputs: binary, binaryOutputs: binary }));
    return {
      protocol,
      sender: () => cycle(requests.map((r) => () => post(r.body, r.headers))),
      close: () => pool.close(),
    };
  }
  return shmTransport(target, inputSets, slots, post, () => pool.close());
}

/** Calls the functions in turn, one per call. */
function cycle(calls: readonly Send[]): Send {
  if (calls.length === 1) return calls[0];
  let next = 0;
  return () => calls[next++ % calls.length]();
}

const kModelInfer = '/inference.GRPCInferenceService/ModelInfer';
const identity = (b: Buffer) => b;

/**
 * gRPC over one grpc-js channel (one HTTP/2 connection, as a grpc-js client of Triton uses):
 * ModelInfer messages serialized once, answers left as bytes (a failure is the call's status).
 */
function grpcTransport(target: TransportTarget, inputSets: readonly ClientTensor[][]): Transport {
  if (target.grpcAddress === null) throw new RangeError('the grpc protocol needs a gRPC address (--grpc-url)');
  const serialize = inferenceServiceDefinition().ModelInfer.requestSerialize as (m: object) => Buffer;
  const messages = inputSets.map((set) => serialize(encodeGrpcInferRequest(target.model, set, target.version === null ? {} : { version: target.version })));
  const client = new grpc.Client(target.grpcAddress, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  const call = (message: Buffer): Promise<boolean> => new Promise((resolve) => {
    client.makeUnaryRequest(kModelInfer, identity, identity, message, (err) => resolve(err === null));
  });
  return {
    protocol: 'grpc',
    sender: () => cycle(messages.map((m) => () => call(m))),
    close: async () => client.close(),
  };
}

const align = (n: number) => Math.ceil(n / 64) * 64;

/**
 * System shared memory, inputs and outputs: one region holds every input set (written once)
 * and one output area per client slot, so concurrent requests never share an output range.
 * Requests are HTTP bodies naming the ranges; the outputs stay in the region, as perf_analyzer
 * leaves them.
 */
async function shmTransport(target: TransportTarget, inputSets: readonly ClientTensor[][], slots: number, post: (body: Buffer, headers: Record<string, string>) => Promise<boolean>, closePool: () => Promise<void>): Promise<Transport> {
  const inputBytes = inputSets.map((set) => set.map((t) => tensorBytes(t)));
  const outputSizes = target.outputs.map((o) => {
    const dt = datatypeFromWire(o.datatype);
    if (!dt || dt.byteSize === 0 || o.dims.some((d) => d < 0)) return target.outputSharedMemorySize;
    return o.dims.reduce((a, b) => a * b, 1) * dt.byteSize * (target.batched ? target.batchSize : 1);
  });
  const inputsEnd = inputBytes.flat().reduce((end, b) => end + align(b.length), 0);
  const slotBytes = outputSizes.reduce((a, b) => a + align(b), 0);
  const size = inputsEnd + slots * slotBytes;
  const name = `nereid-bench-${process.pid}-${++regionCounter}`;
  const region = SharedMemoryRegion.create(`/${name}`, size);
  const client = new HttpClient(target.httpUrl);
  try {
    await client.registerSystemSharedMemory(name, region.key, size);
  } catch (err) {
    region.destroy();
    await closePool();
    throw err;
  }
  let offset = 0;
  const shmInputSets = inputSets.map((set, i) => set.map((t, j): ClientShmTensor => {
    const bytes = inputBytes[i][j];
    region.write(bytes, offset);
    const ref = { region: name, byteSize: bytes.length, offset };
    offset += align(bytes.length);
    return { name: t.name, datatype: t.datatype, shape: t.shape, sharedMemory: ref };
  }));
  const outputsOf = (slot: number): RequestedClientOutput[] => {
    let at = inputsEnd + slot * slotBytes;
    return target.outputs.map((o, k) => {
      const ref = { name: o.name, sharedMemory: { region: name, byteSize: outputSizes[k], offset: at } };
      at += align(outputSizes[k]);
      return ref;
    });
  };
  return {
    protocol: 'shm',
    sender: (slot) => {
      const outputs = outputsOf(slot % slots);
      const requests = shmInputSets.map((set) => encodeInferRequest(set, { outputs, ...(target.version === null ? {} : { version: target.version }) }));
      return cycle(requests.map((r) => () => post(r.body, r.headers)));
    },
    close: async () => {
      await closePool();
      await client.unregisterSystemSharedMemory(name).catch(() => {});
      region.destroy();
    },
  };
}
