/**
 * The server's inference messages on the wire, read and written by an independent codec: a
 * grpc-js client on @grpc/proto-loader's own definitions (protobufjs encodes its requests and
 * decodes the answers), as a Node.js client of Triton would be built. The project's client uses
 * the same hand-written codec as the server, so this is the check that both speak the proto.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GRPC_LOADER_OPTIONS, INFERENCE_SERVICE } from '../../../src/protocol/grpc-proto.ts';
import { repositoryOf } from '../../helpers/server.ts';
import { simpleExpected, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

const definition = protoLoader.loadSync('grpc_service.proto', GRPC_LOADER_OPTIONS);
const Client = grpc.makeGenericClientConstructor(definition[INFERENCE_SERVICE] as grpc.ServiceDefinition, 'GRPCInferenceService');

const int32s = (values: number[]) => Buffer.from(Int32Array.from(values).buffer);
const fromInt32s = (b: Buffer) => Array.from(new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));
const input0 = Array.from({ length: 16 }, (_, i) => i);
const ones = new Array(16).fill(1);

describe('gRPC inference with a client on protobufjs', () => {
  let ts: GrpcTestServer;
  let client: grpc.Client & Record<string, any>;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`]);
    client = new Client(ts.grpcAddress, grpc.credentials.createInsecure()) as typeof client;
  });
  after(async () => {
    client.close();
    await ts.close();
  });

  const infer = (request: object): Promise<any> => new Promise((resolve, reject) => {
    client.ModelInfer(request, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
  });

  test('gets the answer of simple from raw contents, with every response field as protobufjs reads it', async () => {
    const res = await infer({
      model_name: 'simple', id: 'pbjs-1', parameters: { priority: { uint64_param: 1 } },
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16] }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] }],
      raw_input_contents: [int32s(input0), int32s(ones)],
    });
    const { sum, difference } = simpleExpected();
    assert.deepEqual({ ...res, raw_output_contents: res.raw_output_contents.map(fromInt32s) }, {
      model_name: 'simple', model_version: '1', id: 'pbjs-1', parameters: {},
      outputs: ['OUTPUT0', 'OUTPUT1'].map((name) => ({ name, datatype: 'INT32', shape: ['1', '16'], parameters: {}, contents: null })),
      raw_output_contents: [sum, difference],
    });
  });

  test('gets BYTES back from typed contents, with non-ASCII and long strings', async () => {
    const words = ['naïve ✓', '', 'x'.repeat(500)];
    const res = await infer({
      model_name: 'simple_identity',
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 3], contents: { bytes_contents: words.map((w) => Buffer.from(w)) } }],
      outputs: [{ name: 'OUTPUT0' }],
    });
    assert.deepEqual(res.outputs.map((o: any) => [o.name, o.datatype, o.shape]), [['OUTPUT0', 'BYTES', ['1', '3']]]);
    const raw: Buffer = res.raw_output_contents[0];
    const decoded: string[] = [];
    for (let at = 0; at < raw.length;) {
      const n = raw.readUInt32LE(at);
      decoded.push(raw.toString('utf8', at + 4, at + 4 + n));
      at += 4 + n;
    }
    assert.deepEqual(decoded, words);
  });

  test('gets the error of a bad request with its code and message', async () => {
    await assert.rejects(infer({ model_name: 'simple', inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], contents: { int_contents: input0 } }] }),
      (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /missing required input\(s\) \['INPUT1'\]/.test(err.details));
  });

  test('streams answers and errors in request order', async () => {
    const stream = client.ModelStreamInfer() as grpc.ClientDuplexStream<object, any>;
    const answers: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (m) => answers.push(m));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    for (let i = 0; i < 3; i++) {
      stream.write({
        model_name: i === 1 ? 'nope' : 'simple', id: `s${i}`,
        inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], contents: { int_contents: input0.map((v) => v + i) } },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], contents: { int_contents: ones } }],
      });
    }
    stream.end();
    await done;
    assert.deepEqual(answers.map((a) => [a.error_message, a.infer_response.id]), [['', 's0'], ["Request for unknown model: 'nope' is not found", 's1'], ['', 's2']]);
    assert.deepEqual(fromInt32s(answers[2].infer_response.raw_output_contents[0]), input0.map((v) => v + 3));
  });
});
