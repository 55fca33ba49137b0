/**
 * The standard services beside GRPCInferenceService: grpc.health.v1 (Check and Watch, as a
 * Kubernetes gRPC probe uses them) and server reflection (as grpcurl uses it).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { healthClientConstructor } from '../../../src/protocol/grpc-proto.ts';
import { repositoryOf } from '../../helpers/server.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

const require = createRequire(import.meta.url);
const FileDescriptorProto = (descriptor as unknown as { FileDescriptorProto: { decode(b: Uint8Array): object } }).FileDescriptorProto;

/** The parts of a decoded FileDescriptorProto these tests read. */
interface FileDescriptor {
  package: string;
  service?: { name: string; method: { name: string; inputType: string; outputType: string; clientStreaming: boolean; serverStreaming: boolean }[] }[];
  messageType?: { name: string; field: { name: string; number: number }[] }[];
}
const reflectionProto = path.join(path.dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

/** Sends one reflection request on a fresh stream and resolves with the answer. */
function reflect(address: string, request: Record<string, string>): Promise<Record<string, any>> {
  const def = protoLoader.loadSync(reflectionProto, { keepCase: true, defaults: true, oneofs: true });
  const Client = grpc.makeGenericClientConstructor(def['grpc.reflection.v1.ServerReflection'] as grpc.ServiceDefinition, 'ServerReflection');
  const client = new Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = (client as any).ServerReflectionInfo() as grpc.ClientDuplexStream<object, Record<string, any>>;
    call.on('data', (msg) => {
      resolve(msg);
      call.end();
    });
    call.on('error', reject);
    call.on('end', () => client.close());
    call.write(request);
  });
}

describe('gRPC health service', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`, '--exit-timeout-secs=1']);
  });
  after(() => ts.close());

  test('answers SERVING for the server and for the inference service when every model is ready', async () => {
    assert.equal(await ts.grpc.serverReady(), true);
    assert.equal(await ts.grpc.healthCheck(), 'SERVING');
    assert.equal(await ts.grpc.healthCheck('inference.GRPCInferenceService'), 'SERVING');
  });

  test('answers NOT_FOUND for a service it does not know', async () => {
    await assert.rejects(ts.grpc.healthCheck('no.such.Service'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  });

  test('tells a watcher SERVING, then NOT_SERVING when the server shuts down', async () => {
    const client = new (healthClientConstructor())(ts.grpcAddress, grpc.credentials.createInsecure());
    const call = (client as any).Watch({ service: '' }) as grpc.ClientReadableStream<{ status: string }>;
    const statuses: string[] = [];
    const ended = new Promise<void>((resolve) => {
      call.on('error', () => resolve());
      call.on('end', () => resolve());
    });
    const notServing = new Promise<void>((resolve) => {
      call.on('data', (msg: { status: string }) => {
        statuses.push(msg.status);
        if (msg.status === 'SERVING') void ts.server.close();
        if (msg.status === 'NOT_SERVING') resolve();
      });
    });
    await notServing;
    await ended;
    client.close();
    assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
  });
});

describe('gRPC health service with a model that failed to load', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'bad_config')}`]);
  });
  after(() => ts.close());

  test('answers NOT_SERVING, as ServerReady answers false', async () => {
    assert.equal(await ts.grpc.serverReady(), false);
    assert.equal(await ts.grpc.healthCheck(), 'NOT_SERVING');
  });
});

describe('gRPC server reflection', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`]);
  });
  after(() => ts.close());

  test('lists the inference and health services', async () => {
    const answer = await reflect(ts.grpcAddress, { list_services: '*' });
    const names = (answer.list_services_response.service as { name: string }[]).map((s) => s.name);
    assert.ok(names.includes('inference.GRPCInferenceService'), names.join(', '));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
  });

  test('describes the service with every RPC, and ModelConfig with its fields', async () => {
    const answer = await reflect(ts.grpcAddress, { file_containing_symbol: 'inference.GRPCInferenceService' });
    const files = (answer.file_descriptor_response.file_descriptor_proto as Buffer[]).map((b) => FileDescriptorProto.decode(b) as unknown as FileDescriptor);
    const service = files.flatMap((f) => (f.service ?? []).map((s) => ({ ...s, package: f.package }))).find((s) => s.package === 'inference' && s.name === 'GRPCInferenceService');
    assert.ok(service, 'GRPCInferenceService described');
    assert.equal(service.method.length, 20);
    const stream = service.method.find((m) => m.name === 'ModelStreamInfer')!;
    assert.deepEqual([stream.inputType, stream.outputType, stream.clientStreaming, stream.serverStreaming], ['.inference.ModelInferRequest', '.inference.ModelStreamInferResponse', true, true]);

    const config = await reflect(ts.grpcAddress, { file_containing_symbol: 'inference.ModelConfig' });
    const types = (config.file_descriptor_response.file_descriptor_proto as Buffer[]).flatMap((b) => (FileDescriptorProto.decode(b) as unknown as FileDescriptor).messageType ?? []);
    const modelConfig = types.find((t) => t.name === 'ModelConfig');
    assert.ok(modelConfig, 'ModelConfig described');
    assert.equal(modelConfig.field.find((f) => f.name === 'max_batch_size')?.number, 4);
  });
});
