/**
 * The inference messages' codecs side by side: @grpc/proto-loader's (protobufjs, with the
 * conversions to and from plain objects) against the hand-written one of
 * src/api/grpc-infer-wire.ts (plain objects straight to and from protobufjs's Reader and Writer),
 * on `simple`'s request and answer (INT32 [1,16] twice, raw contents), in one process. Prints a
 * table and one JSON line.
 *
 *   node --import tsx bench/grpc-codec.ts --iterations 200000
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GRPC_LOADER_OPTIONS, INFERENCE_SERVICE, inferenceServiceDefinition } from '../src/protocol/grpc-proto.ts';
import { encodeGrpcInferRequest } from '../src/client/index.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '200000' } } });
const iterations = Number(values.iterations);

type Method = grpc.MethodDefinition<object, object>;
const stock = (protoLoader.loadSync('grpc_service.proto', GRPC_LOADER_OPTIONS)[INFERENCE_SERVICE] as grpc.ServiceDefinition).ModelInfer as Method;
const hand = inferenceServiceDefinition().ModelInfer as Method;

const request = encodeGrpcInferRequest('simple', [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
], { id: 'req-1' });
const response = {
  model_name: 'simple', model_version: '1', id: 'req-1', parameters: {},
  outputs: ['OUTPUT0', 'OUTPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], parameters: {}, contents: null })),
  raw_output_contents: [Buffer.alloc(64, 1), Buffer.alloc(64, 2)],
};
const requestBytes = stock.requestSerialize(request);
const responseBytes = stock.responseSerialize(response);

/** Mean microseconds per call of `f`, after a warm-up of a tenth as many calls. */
function time(f: () => unknown): number {
  for (let i = 0; i < iterations / 10; i++) f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) f();
  return Number(process.hrtime.bigint() - t0) / iterations / 1000;
}

const steps: [string, (m: Method) => () => unknown][] = [
  ['server: decode request', (m) => () => m.requestDeserialize(requestBytes)],
  ['server: encode response', (m) => () => m.responseSerialize(response)],
  ['client: encode request', (m) => () => m.requestSerialize(request)],
  ['client: decode response', (m) => () => m.responseDeserialize(responseBytes)],
];
const rows = steps.map(([step, f]) => {
  const protoLoaderUs = time(f(stock));
  const handWrittenUs = time(f(hand));
  return { step, protoLoaderUs, handWrittenUs, ratio: protoLoaderUs / handWrittenUs };
});

console.log(`simple's ModelInfer messages, ${iterations} calls each\n`);
console.log('step                       proto-loader us   hand-written us   ratio');
for (const r of rows) {
  console.log(`${r.step.padEnd(26)} ${r.protoLoaderUs.toFixed(2).padStart(15)} ${r.handWrittenUs.toFixed(2).padStart(17)} ${r.ratio.toFixed(1).padStart(6)}x`);
}
console.log(JSON.stringify({
  bench: 'grpc-codec-simple',
  command: `node --import tsx bench/grpc-codec.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
  node: process.version,
  requestBytes: requestBytes.length,
  responseBytes: responseBytes.length,
  results: rows,
}));
