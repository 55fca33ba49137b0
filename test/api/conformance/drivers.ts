/**
 * The conformance table's two drivers: each sends a case over its transport, in one of its
 * encodings, and hands back the answer or the refusal in the table's terms.
 */
import assert from 'node:assert/strict';
import { decodeGrpcInferResponse, decodeInferResponse, encodeGrpcInferRequest, encodeInferRequest, type GrpcClient } from '../../../src/client/index.ts';
import { datatypeFromWire } from '../../../src/dtypes.ts';
import { jsonOf, request } from '../../helpers/http.ts';
import type { CaseTensor, ConformanceCase } from './cases.ts';

export type Reply =
  | { readonly answer: { readonly id?: string; readonly model: string; readonly version: string; readonly outputs: CaseTensor[] } }
  | { readonly refusal: { readonly status: number; readonly message: string } };

export interface Driver {
  readonly transport: 'http' | 'grpc';
  /** The wire encodings of tensors; good requests go in each, bad ones in the first. */
  readonly encodings: readonly string[];
  send(c: ConformanceCase, encoding: string): Promise<Reply>;
}

/** Outputs with plain arrays of values, whatever typed arrays the client decoded them into. */
const plain = (outputs: readonly { name: string; datatype: string; shape: readonly number[]; data: unknown }[]): CaseTensor[] =>
  outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: [...o.shape], data: Array.from(o.data as ArrayLike<number | string>) }));

/**
 * HTTP/REST: 'json' puts tensors in the JSON body, 'binary' in the binary tensor extension (inputs
 * and outputs). `url` is read per request, since the server starts after the tests are declared.
 */
export function httpDriver(url: () => string): Driver {
  return {
    transport: 'http',
    encodings: ['json', 'binary'],
    async send(c, encoding) {
      const binary = encoding === 'binary';
      const { body, headers } = encodeInferRequest(c.inputs, {
        id: c.id, outputs: c.outputs, parameters: c.parameters, binaryInputs: binary, binaryOutputs: binary,
      });
      const path = `/v2/models/${encodeURIComponent(c.model)}${c.version === undefined ? '' : `/versions/${c.version}`}/infer`;
      const res = await request(`${url()}${path}`, { method: 'POST', body, headers });
      if (res.status !== 200) {
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const reply = jsonOf(res);
        assert.deepEqual(Object.keys(reply), ['error']);
        assert.equal(typeof reply.error, 'string');
        return { refusal: { status: res.status, message: reply.error } };
      }
      const headerLength = res.headers['inference-header-content-length'];
      assert.match(String(res.headers['content-type']), headerLength === undefined ? /^application\/json/ : /^application\/octet-stream/);
      const result = decodeInferResponse(res.body, headerLength === undefined ? null : String(headerLength));
      return { answer: { id: result.id, model: result.model_name, version: result.model_version, outputs: plain(result.outputs) } };
    },
  };
}

/** gRPC ModelInfer: 'raw' sends raw_input_contents, 'typed' each input's typed contents field. */
export function grpcDriver(client: () => GrpcClient): Driver {
  return {
    transport: 'grpc',
    encodings: ['raw', 'typed'],
    async send(c, encoding) {
      // The client cannot encode values of a datatype it does not know: send them as INT32, then
      // name the unknown datatype, so that the server is the one to refuse it.
      const known = c.inputs.map((t) => (datatypeFromWire(t.datatype) ? t : { ...t, datatype: 'INT32' }));
      const msg = encodeGrpcInferRequest(c.model, known, {
        id: c.id, version: c.version, outputs: c.outputs, parameters: c.parameters, contents: encoding as 'raw' | 'typed',
      });
      msg.inputs.forEach((input, i) => { input.datatype = c.inputs[i].datatype; });
      try {
        const result = decodeGrpcInferResponse(await client().modelInfer(msg));
        return { answer: { id: result.id === '' ? undefined : result.id, model: result.model_name, version: result.model_version, outputs: plain(result.outputs) } };
      } catch (err) {
        const e = err as { code?: number; details?: string };
        if (e.code === undefined) throw err;
        return { refusal: { status: e.code, message: String(e.details) } };
      }
    },
  };
}
