/**
 * Property-based tests (fast-check): random and mutated bodies fed to the JSON, binary and
 * protobuf codecs end to end through the pipeline, which must answer a 4xx (a ServerError the
 * client caused) or a correct answer, never a throw of another kind (a TypeError escaping a codec
 * is a 500, or a crash). The codecs run against a fake model whose scheduler echoes its inputs
 * (pure logic); then a sample of the same mutations goes to a real server, whose answers must be
 * a 4xx or the right sums. Run counts are modest so the suite stays fast.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { decodeInferRequest, materializeInputs, parseJson } from '../../src/api/http/codec-json.ts';
import { decodeGrpcInferRequest, materializeGrpcInputs } from '../../src/api/grpc/codec-protobuf.ts';
import { encodeGrpcInferRequest, encodeModelInferRequest } from '../../src/client/index.ts';
import { datatypeFromWire } from '../../src/dtypes.ts';
import { ServerError } from '../../src/errors.ts';
import { runInference, type InferenceTarget, type InferRequest, type InferResponse } from '../../src/inference/index.ts';
import type { ModelConfig } from '../../src/model-config/index.ts';
import { decodeModelInferRequest, decodeModelInferResponse, MalformedInferRequest, readModelInferRequest, splitBinaryBody } from '../../src/protocol/index.ts';
import { ClientRegions } from '../../src/shm/index.ts';
import { repositoryOf } from '../helpers/server.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';
import { rawGrpcCall } from '../helpers/raw-grpc.ts';

const tensor = (name: string, wire: string, dims: number[]) => ({ name, datatype: datatypeFromWire(wire)!, dims, reshape: null, optional: false });

/** A fake model with a numeric and a BYTES input; its scheduler answers the inputs back. */
const config = {
  name: 'fuzz',
  maxBatchSize: 4,
  inputs: [tensor('NUM', 'INT32', [-1]), tensor('TXT', 'BYTES', [-1])],
  outputs: [tensor('NUM', 'INT32', [-1]), tensor('TXT', 'BYTES', [-1])],
} as unknown as ModelConfig;
const echo = async (request: InferRequest): Promise<InferResponse> => ({
  id: request.id, modelName: 'fuzz', modelVersion: 1,
  outputs: request.inputs.map((i) => ({
    name: i.name, datatype: datatypeFromWire(i.datatype)!, shape: i.shape,
    data: i.data.kind === 'strings' ? [...i.data.strings] : i.data.kind === 'raw' ? i.data.bytes.slice().buffer : new ArrayBuffer(0),
  })),
});
const target: InferenceTarget = { config, version: 1, scheduler: { enqueue: echo } };
const regions = new ClientRegions({ allowed: false, maxTotalBytes: 0 });
const limits = { maxElements: 10_000, maxMemoryBytes: 1 << 20 };

/** Passes when `run` answers or refuses with a client error; fails on anything else. */
async function answersOrRefuses(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof ServerError) || err.httpStatus >= 500) throw err;
  }
}

/** Byte-level mutations of a valid body: flips, deletions, insertions, a cut. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(valid: Buffer, edits: readonly Mutation[]): Buffer {
  let b = Buffer.from(valid);
  for (const e of edits) {
    if (b.length === 0) break;
    const at = e.at % b.length;
    if (e.kind === 'flip') b[at] ^= e.bits;
    else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
    else b = b.subarray(0, at);
  }
  return b;
}
const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

const validJson = Buffer.from(JSON.stringify({
  id: 'x', parameters: { p: 1 },
  inputs: [{ name: 'NUM', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] }, { name: 'TXT', datatype: 'BYTES', shape: [1, 2], data: ['a', 'é'] }],
  outputs: [{ name: 'NUM' }, { name: 'TXT', parameters: { binary_data: true } }],
}));

function httpChain(body: Buffer, headerLength?: string): Promise<unknown> {
  const { header, binary } = headerLength === undefined ? { header: body, binary: Buffer.alloc(0) } : splitBinaryBody(body, headerLength);
  const decoded = decodeInferRequest(parseJson(header, 100, limits.maxElements));
  return runInference(regions, target, decoded, (r) => materializeInputs(decoded.inputs, binary, decoded.id, 'fuzz', r), (x) => x, { limits });
}

const binaryHeader = Buffer.from(JSON.stringify({ inputs: [{ name: 'NUM', datatype: 'INT32', shape: [1, 2], parameters: { binary_data_size: 8 } }, { name: 'TXT', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: 11 } }] }));
const validBinary = Buffer.concat([binaryHeader, Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]), Buffer.from([1, 0, 0, 0, 0x61, 2, 0, 0, 0, 0xc3, 0xa9])]);

const grpcMessage = () => {
  const msg = encodeGrpcInferRequest('fuzz', [
    { name: 'NUM', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] },
    { name: 'TXT', datatype: 'BYTES', shape: [1, 2], data: ['a', 'é'] },
  ], { id: 'g', contents: 'raw' });
  return encodeModelInferRequest(msg);
};
const validProto = grpcMessage();

function grpcChain(bytes: Buffer): Promise<unknown> {
  const msg = readModelInferRequest(bytes, limits.maxElements);
  if (msg instanceof MalformedInferRequest) return Promise.resolve(msg);
  const decoded = decodeGrpcInferRequest(msg);
  return runInference(regions, target, decoded, (r) => materializeGrpcInputs(msg, 'fuzz', r, decoded), (x) => x, { limits });
}

describe('codecs under random and mutated bodies (fast-check)', () => {
  test('the valid bodies pass, so the mutations start from something that works', async () => {
    await httpChain(validJson);
    await httpChain(validBinary, String(binaryHeader.length));
    assert.ok(!((await grpcChain(validProto)) instanceof MalformedInferRequest));
  });

  test('JSON: mutated and random bodies answer or give a 4xx', async () => {
    await fc.assert(fc.asyncProperty(mutations, async (edits) => answersOrRefuses(() => httpChain(mutate(validJson, edits)))), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(fc.json(), async (text) => answersOrRefuses(() => httpChain(Buffer.from(text)))), { numRuns: 200 });
    const anyRequest = fc.record({
      id: fc.oneof(fc.string(), fc.integer()),
      inputs: fc.array(fc.record({ name: fc.constantFrom('NUM', 'TXT', 'X'), datatype: fc.constantFrom('INT32', 'BYTES', 'FP32', 'nope'), shape: fc.array(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.string()), { maxLength: 3 }), data: fc.anything() }), { maxLength: 3 }),
    });
    await fc.assert(fc.asyncProperty(anyRequest, async (r) => answersOrRefuses(() => httpChain(Buffer.from(JSON.stringify(r))))), { numRuns: 300 });
  });

  test('binary: mutated bodies and header lengths answer or give a 4xx', async () => {
    await fc.assert(fc.asyncProperty(mutations, fc.integer({ min: -3, max: 3 }), async (edits, shift) =>
      answersOrRefuses(() => httpChain(mutate(validBinary, edits), String(Math.max(0, binaryHeader.length + shift))))), { numRuns: 300 });
  });

  test('protobuf: mutated and random messages are read without a throw, then answer or give a 4xx', async () => {
    await fc.assert(fc.asyncProperty(mutations, async (edits) => answersOrRefuses(() => grpcChain(mutate(validProto, edits)))), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => answersOrRefuses(() => grpcChain(Buffer.from(bytes)))), { numRuns: 300 });
  });
});

describe('a real server under mutated requests', () => {
  let ts: GrpcTestServer;
  let session: http2.ClientHttp2Session;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`]);
    session = http2.connect(`http://${ts.grpcAddress}`);
  });
  after(async () => {
    session?.close();
    await ts?.close();
  });

  const row = Array.from({ length: 16 }, (_, i) => i);
  const simpleJson = Buffer.from(JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: row }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: row.map(() => 7) }] }));
  const sums = (a: readonly number[], b: readonly number[]) => a.map((v, i) => (v + b[i]) | 0);

  test('HTTP JSON: each answer is a 4xx, or the sums of the inputs sent', async () => {
    await fc.assert(fc.asyncProperty(mutations, async (edits) => {
      const body = mutate(simpleJson, edits);
      const res = await fetch(`${ts.url}/v2/models/simple/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: new Uint8Array(body) });
      const answer = (await res.json()) as { outputs?: { name: string; data: number[] }[] };
      if (res.status === 200) {
        const sent = JSON.parse(body.toString()) as { inputs: { name: string; data: number[] }[] };
        const input = (n: string) => sent.inputs.find((i) => i.name === n)!.data.flat(Infinity) as number[];
        assert.deepEqual(answer.outputs!.find((o) => o.name === 'OUTPUT0')!.data, sums(input('INPUT0'), input('INPUT1')));
      } else {
        assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
      }
    }), { numRuns: 60 });
  });

  test('gRPC: each answer is a client-error status, or the sums of the inputs sent', async () => {
    const valid = encodeModelInferRequest(encodeGrpcInferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: row }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: row.map(() => 7) },
    ], { contents: 'raw' }));
    const serverFaults = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS]);
    await fc.assert(fc.asyncProperty(mutations, async (edits) => {
      const bytes = mutate(valid, edits);
      const answer = await rawGrpcCall(session, '/inference.GRPCInferenceService/ModelInfer', bytes);
      if (answer.status === grpc.status.OK) {
        const sent = decodeModelInferRequest(bytes);
        const ints = (b: Uint8Array) => Array.from(new Int32Array(Uint8Array.from(b).buffer, 0, b.length >> 2));
        const order = sent.inputs.map((i) => i.name);
        const reply = decodeModelInferResponse(answer.body.subarray(5));
        const out0 = reply.outputs.findIndex((o) => o.name === 'OUTPUT0');
        assert.deepEqual(ints(reply.raw_output_contents[out0]), sums(ints(sent.raw_input_contents[order.indexOf('INPUT0')]), ints(sent.raw_input_contents[order.indexOf('INPUT1')])));
      } else {
        assert.ok(!serverFaults.has(answer.status), `status ${answer.status}: ${answer.message}`);
      }
    }), { numRuns: 60 });
  });
});
