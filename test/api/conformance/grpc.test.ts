/**
 * The inference conformance table (cases.ts) over gRPC ModelInfer, with raw and with typed
 * contents, against one real server.
 */
import { after, before, describe } from 'node:test';
import { repositoryOf } from '../../helpers/server.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';
import { MODELS } from './cases.ts';
import { grpcDriver } from './drivers.ts';
import { runTable } from './run-table.ts';

describe('inference conformance over gRPC', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf(...MODELS)}`]);
  });
  after(() => ts?.close());

  runTable(grpcDriver(() => ts.grpc));
});
