/**
 * The tuner's requests: one inference request of batch 1 per call, built once from the model's
 * metadata (zeros of each input's datatype, variable dims taken as 1), sent with Triton's binary
 * tensor extension over keep-alive HTTP, one connection per client slot. The engine
 * (engine.ts) drives it exactly as it drives bench/'s transports.
 */
import http from 'node:http';
import type { Transport } from './engine.ts';

export interface TensorMeta {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

const BYTE_SIZES: Readonly<Record<string, number>> = { BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, BF16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8 };

/** The request body of one inference (batch 1 where the model batches) and its headers. */
export function inferenceBody(inputs: readonly TensorMeta[], outputs: readonly string[], batches: boolean): { body: Buffer; headers: Record<string, string> } {
  const parts: Buffer[] = [];
  const jsonInputs = inputs.map((t) => {
    const dims = (batches ? t.shape.slice(1) : t.shape).map((d) => (d < 0 ? 1 : d));
    const shape = batches ? [1, ...dims] : dims;
    const count = shape.reduce((a, b) => a * b, 1);
    let bytes: Buffer;
    if (t.datatype === 'BYTES') {
      // Triton's BYTES layout: a 4-byte little-endian length before each element ("0").
      bytes = Buffer.alloc(count * 5);
      for (let i = 0; i < count; i++) {
        bytes.writeUInt32LE(1, i * 5);
        bytes[i * 5 + 4] = 0x30;
      }
    } else {
      const size = BYTE_SIZES[t.datatype];
      if (size === undefined) throw new RangeError(`input '${t.name}': the tuner cannot fill datatype ${t.datatype}`);
      bytes = Buffer.alloc(count * size);
    }
    parts.push(bytes);
    return { name: t.name, datatype: t.datatype, shape, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ inputs: jsonInputs, outputs: outputs.map((name) => ({ name, parameters: { binary_data: true } })) }));
  return {
    body: Buffer.concat([header, ...parts]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}

/** POSTs the same body from every slot; a sender resolves true for a 200 answer. */
export function httpTransport(httpUrl: string, model: string, request: { body: Buffer; headers: Record<string, string> }, slots: number): Transport & { close(): void } {
  const url = new URL(`${httpUrl}/v2/models/${encodeURIComponent(model)}/infer`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: slots });
  const headers = { ...request.headers, 'content-length': String(request.body.length) };
  const send = () => new Promise<boolean>((resolve) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end(request.body);
  });
  return { sender: () => send, close: () => agent.destroy() };
}
