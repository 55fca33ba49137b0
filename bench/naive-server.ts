/**
 * The naive baseline: what most people write first. One fastify route, one onnxruntime-node
 * call per request on the main thread, no batching, no workers. It speaks the same KServe v2
 * infer path as Nereid, JSON or Triton's binary tensor extension (so the comparison measures
 * serving, not codecs), and the same load generator drives both.
 *
 *   node --import tsx bench/naive-server.ts --model model_repository/simple/1/model.onnx --port 0
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import os from 'node:os';

interface WireInput { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size?: number } }

const ortType: Record<string, 'int32' | 'float32'> = { INT32: 'int32', FP32: 'float32' };
const arrays = { int32: Int32Array, float32: Float32Array };
const wireType: Record<string, string> = { int32: 'INT32', float32: 'FP32' };

export async function startNaiveServer(modelPath: string, port: number, threads = os.availableParallelism()): Promise<{ port: number; close(): Promise<void> }> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/v2/models/:model/infer', async (req, reply) => {
    const headerLength = req.headers['inference-header-content-length'];
    const raw = req.body as Buffer | { inputs: WireInput[]; parameters?: Record<string, unknown> };
    const binary = Buffer.isBuffer(raw);
    const header = binary ? JSON.parse(raw.subarray(0, Number(headerLength)).toString()) : raw;
    let offset = binary ? Number(headerLength) : 0;
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of header.inputs as WireInput[]) {
      const type = ortType[input.datatype];
      let data: Int32Array | Float32Array;
      if (input.parameters?.binary_data_size !== undefined) {
        const size = input.parameters.binary_data_size;
        data = new arrays[type](Uint8Array.from((raw as Buffer).subarray(offset, offset + size)).buffer);
        offset += size;
      } else {
        data = arrays[type].from((input.data as number[]).flat(Infinity) as number[]);
      }
      feeds[input.name] = new ort.Tensor(type, data, input.shape);
    }
    const result = await session.run(feeds);
    const model = (req.params as { model: string }).model;
    const outputs = Object.entries(result);
    if (header.parameters?.binary_data_output !== true) {
      return {
        model_name: model,
        model_version: '1',
        outputs: outputs.map(([name, t]) => ({ name, datatype: wireType[t.type], shape: t.dims, data: Array.from(t.data as Int32Array) })),
      };
    }
    const parts = outputs.map(([, t]) => Buffer.from((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, (t.data as Float32Array).byteLength));
    const json = Buffer.from(JSON.stringify({
      model_name: model,
      model_version: '1',
      outputs: outputs.map(([name, t], i) => ({ name, datatype: wireType[t.type], shape: t.dims, parameters: { binary_data_size: parts[i].length } })),
    }));
    reply.header('inference-header-content-length', json.length).type('application/octet-stream');
    return Buffer.concat([json, ...parts]);
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
