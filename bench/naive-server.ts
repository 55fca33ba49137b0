/**
 * The naive baseline: what most people write first. One fastify route, JSON in and out, one
 * onnxruntime-node call per request on the main thread, no batching, no workers.
 * Serves the KServe v2 JSON infer path only, so the same load generator can drive it.
 *
 *   node --import tsx bench/naive-server.ts --model model_repository/simple/1/model.onnx --port 0
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import os from 'node:os';

const typed: Record<string, (n: number[]) => ArrayBufferView> = {
  INT32: (v) => Int32Array.from(v), FP32: (v) => Float32Array.from(v), INT64: (v) => BigInt64Array.from(v.map(BigInt)),
};
const ortType: Record<string, string> = { INT32: 'int32', FP32: 'float32', INT64: 'int64' };
const wireType: Record<string, string> = { int32: 'INT32', float32: 'FP32', int64: 'INT64' };

export async function startNaiveServer(modelPath: string, port: number, threads = os.availableParallelism()): Promise<{ port: number; close(): Promise<void> }> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post('/v2/models/:model/infer', async (req) => {
    const body = req.body as { inputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of body.inputs) {
      feeds[input.name] = new ort.Tensor(ortType[input.datatype] as 'int32', typed[input.datatype](input.data.flat(Infinity) as number[]) as Int32Array, input.shape);
    }
    const result = await session.run(feeds);
    return {
      model_name: (req.params as { model: string }).model,
      model_version: '1',
      outputs: Object.entries(result).map(([name, t]) => ({
        name, datatype: wireType[t.type], shape: t.dims, data: Array.from(t.data as Int32Array, Number),
      })),
    };
  });
  await app.listen({ host: '127.0.0.1', port });
  return { port: (app.server.address() as { port: number }).port, close: () => app.close() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, port: { type: 'string', default: '0' }, threads: { type: 'string' } } });
  if (!values.model) throw new Error('--model is required');
  const server = await startNaiveServer(values.model, Number(values.port), values.threads ? Number(values.threads) : undefined);
  process.stdout.write(`naive server listening on 127.0.0.1:${server.port}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
