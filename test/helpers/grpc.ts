/**
 * A real Nereid server on free loopback ports with a gRPC client connected to it, for the
 * gRPC end-to-end tests; and the tensors the `simple` model takes.
 */
import { GrpcClient, type ClientTensor, type GrpcClientOptions } from '../../src/client/index.ts';
import { startTestServer, type TestServer } from './server.ts';

export interface GrpcTestServer extends TestServer {
  readonly grpc: GrpcClient;
  /** "127.0.0.1:PORT" */
  readonly grpcAddress: string;
}

/** `args` are CLI flags, added after the helper's own (so they win). */
export async function startGrpcTestServer(args: string[] = [], client: GrpcClientOptions = {}): Promise<GrpcTestServer> {
  const ts = await startTestServer(['--grpc-address=127.0.0.1', ...args]);
  const grpcAddress = `127.0.0.1:${ts.server.grpcPort}`;
  const grpc = new GrpcClient(grpcAddress, client);
  return {
    ...ts,
    grpc,
    grpcAddress,
    close: async () => {
      grpc.close();
      await ts.close();
    },
  };
}

/** INPUT0 = start..start+15 per row, INPUT1 = all ones, for `simple` (INT32 [rows, 16]). */
export function simpleInputs(rows = 1, start = 0): ClientTensor[] {
  return [
    { name: 'INPUT0', datatype: 'INT32', shape: [rows, 16], data: Array.from({ length: rows * 16 }, (_, i) => start + i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [rows, 16], data: Array.from({ length: rows * 16 }, () => 1) },
  ];
}

/** What `simple` answers for simpleInputs: OUTPUT0 = sum, OUTPUT1 = difference. */
export function simpleExpected(rows = 1, start = 0): { sum: number[]; difference: number[] } {
  const input0 = Array.from({ length: rows * 16 }, (_, i) => start + i);
  return { sum: input0.map((v) => v + 1), difference: input0.map((v) => v - 1) };
}
