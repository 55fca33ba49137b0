/**
 * The naive baseline: what most people write first. One fastify route, one onnxruntime-node
 * call per request on the main thread, no batching, no workers. It speaks the same KServe v2
 * infer path as Nereid, JSON or Triton's binary tensor extension (so the comparison measures
 * serving, not codecs), and the same load generator drives both. Any model whose inputs and
 * outputs are numeric (FP16/32/64, INT8..64, UINT8..64), BOOL or BYTES tensors; the model name
 * in the path is not checked (one model per server).
 *
 *   node --import tsx bench/naive-server.ts --model model_repository/simple/1/model.onnx --port 0 [--threads T]
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { decodeBytesElements, encodeBytesElements } from '../src/bytes-elements.ts';
import { ALL_DATATYPES, datatypeFromWire, elementCount, floatToHalf, halfToFloat, type DatatypeInfo } from '../src/dtypes.ts';

interface WireInput { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size?: number } }
interface WireOutput { name: string; parameters?: { binary_data?: boolean } }
interface WireRequest { id?: string; inputs: WireInput[]; outputs?: WireOutput[]; parameters?: { binary_data_output?: boolean } }

const byOrtType = new Map(ALL_DATATYPES.filter((d) => d.ort !== null).map((d) => [d.ort as string, d]));

/** A wire input (JSON values, or its slice of the binary body) as a runtime tensor. */
function inputTensor(input: WireInput, binary: Buffer | undefined): ort.Tensor {
  const dt = datatypeFromWire(input.datatype);
  if (!dt || dt.ort === null) throw new Error(`input '${input.name}': unsupported datatype ${input.datatype}`);
  const count = elementCount(input.shape);
  let data: ort.Tensor['data'];
  if (binary !== undefined) {
    if (dt.wire === 'BYTES') {
      data = decodeBytesElements(binary, count, `input '${input.name}'`);
    } else {
      // A copy into a fresh, aligned buffer: the body's bytes may sit at any offset.
      const bytes = new Uint8Array(binary.length);
      bytes.set(binary);
      data = new dt.array!(bytes.buffer) as ort.Tensor['data'];
    }
  } else {
    const values = (input.data ?? []).flat(Infinity) as unknown[];
    data = jsonToData(dt, values);
  }
  if ((data as ArrayLike<unknown>).length !== count) throw new Error(`input '${input.name}': shape [${input.shape}] needs ${count} elements, got ${(data as ArrayLike<unknown>).length}`);
  return new ort.Tensor(dt.ort as 'float32', data as Float32Array, input.shape);
}

function jsonToData(dt: DatatypeInfo, values: unknown[]): ort.Tensor['data'] {
  switch (dt.json) {
    case 'string': return values.map(String);
    case 'bool': return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case 'half': return Uint16Array.from(values, (v) => floatToHalf(Number(v)));
    case 'bigint': {
      const arr = new dt.array!(new ArrayBuffer(values.length * 8)) as BigInt64Array;
      values.forEach((v, i) => { arr[i] = BigInt(v as number); });
      return arr;
    }
    default: {
      const arr = new dt.array!(new ArrayBuffer(values.length * dt.byteSize)) as Float32Array;
      values.forEach((v, i) => { arr[i] = Number(v); });
      return arr;
    }
  }
}

/** An output's values as JSON numbers, booleans or strings. */
function dataToJson(dt: DatatypeInfo, data: ort.Tensor['data']): unknown[] {
  const values = Array.from(data as ArrayLike<unknown>);
  switch (dt.json) {
    case 'bigint': return values.map(Number);
    case 'bool': return values.map(Boolean);
    case 'half': return values.map((v) => halfToFloat(v as number));
    default: return values;
  }
}

function dataToBytes(dt: DatatypeInfo, data: ort.Tensor['data']): Buffer {
  if (dt.wire === 'BYTES') return encodeBytesElements(data as string[]);
  const view = data as ArrayBufferView;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

export async function startNaiveServer(modelPath: string, port: number, threads = os.availableParallelism()): Promise<{ port: number; close(): Promise<void> }> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const app = Fastify({ bodyLimit: 256 * 1024 * 1024 });
  // Every body as bytes: binary requests carry Inference-Header-Content-Length, JSON ones do not.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.get('/v2/health/live', async () => '');
  app.get('/v2/health/ready', async () => '');
  app.post('/v2/models/:model/infer', async (req, reply) => {
    const body = req.body as Buffer;
    const lengthHeader = req.headers['inference-header-content-length'];
    const headerLength = lengthHeader === undefined ? body.length : Number(lengthHeader);
    let header: WireRequest;
    const feeds: Record<string, ort.Tensor> = {};
    try {
      header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as WireRequest;
      let offset = headerLength;
      for (const input of header.inputs) {
        const size = input.parameters?.binary_data_size;
        feeds[input.name] = inputTensor(input, size === undefined ? undefined : body.subarray(offset, offset + size));
        offset += size ?? 0;
      }
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
    const names = header.outputs?.map((o) => o.name) ?? session.outputNames;
    let result: ort.InferenceSession.ReturnType;
    try {
      result = header.outputs ? await session.run(feeds, names) : await session.run(feeds);
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
    const model = (req.params as { model: string }).model;
    const parts: Buffer[] = [];
    const outputs = names.map((name, i) => {
      const t = result[name];
      const dt = byOrtType.get(t.type)!;
      const binary = header.outputs?.[i]?.parameters?.binary_data ?? header.parameters?.binary_data_output ?? false;
      const base = { name, datatype: dt.wire, shape: t.dims };
      if (!binary) return { ...base, data: dataToJson(dt, t.data) };
      const bytes = dataToBytes(dt, t.data);
      parts.push(bytes);
      return { ...base, parameters: { binary_data_size: bytes.length } };
    });
    const response = { ...(header.id !== undefined ? { id: header.id } : {}), model_name: model, model_version: '1', outputs };
    if (parts.length === 0) return response;
    const json = Buffer.from(JSON.stringify(response));
    reply.header('inference-header-content-length', json.length).type('application/octet-stream');
    return Buffer.concat([json, ...parts]);
  });
  await app.listen({ host: '127.0.0.1', port });
  return {
    port: (app.server.address() as { port: number }).port,
    close: async () => {
      await app.close();
      await session.release();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, port: { type: 'string', default: '0' }, threads: { type: 'string' } } });
  if (!values.model) throw new Error('--model is required');
  const server = await startNaiveServer(values.model, Number(values.port), values.threads ? Number(values.threads) : undefined);
  process.stdout.write(`naive server listening on 127.0.0.1:${server.port}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
