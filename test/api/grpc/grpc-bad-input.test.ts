/**
 * Every bad inference request over gRPC gets its status code and a message that says what is
 * wrong, and the server goes on serving. Table-driven: each case edits a good request. These are
 * the refusals of gRPC's own encoding (typed contents, BYTES in raw contents, shared memory);
 * those every transport shares are in test/api/conformance/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcInferRequest, type ClientTensor } from '../../../src/client/index.ts';
import type { ModelInferRequestMessage } from '../../../src/protocol/grpc-messages.ts';
import { repositoryOf } from '../../helpers/server.ts';
import { simpleExpected, simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

const { INVALID_ARGUMENT, UNIMPLEMENTED } = grpc.status;

type Edit = (msg: ModelInferRequestMessage) => void;
interface Case {
  readonly name: string;
  /** The request: `simple` with simpleInputs() unless given, raw unless `typed`, then edited. */
  readonly request?: () => ModelInferRequestMessage;
  readonly typed?: boolean;
  readonly edit?: Edit;
  readonly code: grpc.status;
  readonly message: RegExp;
}

const simple = (typed = false) => encodeGrpcInferRequest('simple', simpleInputs(), { contents: typed ? 'typed' : 'raw', id: 'r1' });
const identity = (shape: number[], raw: Uint8Array) => {
  const msg = encodeGrpcInferRequest('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape, data: [] }], {});
  msg.raw_input_contents = [raw];
  return msg;
};
/** all_types with one value per input, typed, where `edit` can then change one input. */
const allTypes = () => {
  const types = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64', 'BYTES'];
  const inputs: ClientTensor[] = types.map((t) => ({ name: `IN_${t}`, datatype: t, shape: [1, 1], data: [t === 'BOOL' ? true : t === 'BYTES' ? 'x' : 1] }));
  inputs.push({ name: 'IN_FP16', datatype: 'FP16', shape: [1, 0], data: [] });
  return encodeGrpcInferRequest('all_types', inputs, { contents: 'typed' });
};
const input = (msg: ModelInferRequestMessage, name: string) => msg.inputs.find((i) => i.name === name)!;

const cases: Case[] = [
  { name: 'typed contents shorter than the shape', typed: true, edit: (m) => { m.inputs[0].contents!.int_contents!.pop(); }, code: INVALID_ARGUMENT, message: /input 'INPUT0' has fewer data elements than the 16 its shape needs/ },
  { name: 'typed contents longer than the shape', typed: true, edit: (m) => { m.inputs[1].contents!.int_contents!.push(1); }, code: INVALID_ARGUMENT, message: /input 'INPUT1' has more data elements than the 16/ },
  { name: 'raw and typed contents both given', typed: true, edit: (m) => { m.raw_input_contents = [Buffer.alloc(64), Buffer.alloc(64)]; }, code: INVALID_ARGUMENT, message: /contents field must not be specified when using raw_input_contents for 'INPUT0'/ },
  { name: 'fewer raw contents than inputs', edit: (m) => { m.raw_input_contents.pop(); }, code: INVALID_ARGUMENT, message: /raw_input_contents has 1 entries for the 2 inputs/ },
  { name: 'an input with no data at all', typed: true, edit: (m) => { m.inputs[1].contents = null; }, code: INVALID_ARGUMENT, message: /unable to find data for input tensor 'INPUT1' for model 'simple'/ },
  { name: 'typed contents in the wrong field', typed: true, edit: (m) => { m.inputs[0].contents = { fp32_contents: new Array(16).fill(1) }; }, code: INVALID_ARGUMENT, message: /unexpected explicit tensor data for input tensor 'INPUT0' for model 'simple' of type 'FP32', expected datatype 'INT32'/ },
  { name: 'a typed value out of its datatype\'s range', request: allTypes, edit: (m) => { input(m, 'IN_UINT8').contents = { uint_contents: [300] }; }, code: INVALID_ARGUMENT, message: /input 'IN_UINT8': data element 0 is not a valid UINT8 value/ },
  { name: 'typed FP16 values, which have no typed field', request: allTypes, edit: (m) => { const i = input(m, 'IN_FP16'); i.shape = [1, 1]; i.contents = { fp32_contents: [1] }; }, code: INVALID_ARGUMENT, message: /of type 'FP32', expected datatype 'FP16'/ },
  { name: 'a typed FP16 tensor with no values', request: allTypes, edit: (m) => { input(m, 'IN_FP16').shape = [1, 2]; }, code: INVALID_ARGUMENT, message: /input 'IN_FP16' for model 'all_types': FP16 has no typed contents field; send it in raw_input_contents/ },
  { name: 'a BYTES length prefix past the end', request: () => identity([1, 1], Buffer.from([9, 0, 0, 0, 65])), code: INVALID_ARGUMENT, message: /BYTES element 0 has length 9, past the end of the data/ },
  { name: 'fewer BYTES elements than the shape', request: () => identity([1, 2], Buffer.from([1, 0, 0, 0, 65])), code: INVALID_ARGUMENT, message: /fewer than the 2 BYTES elements its shape needs/ },
  { name: 'bytes beyond the BYTES elements', request: () => identity([1, 1], Buffer.from([1, 0, 0, 0, 65, 0])), code: INVALID_ARGUMENT, message: /holds 1 bytes beyond the 1 BYTES elements/ },
  { name: 'a shared-memory input without its byte size', edit: (m) => { m.inputs[0].parameters = { shared_memory_region: { string_param: 'r' } }; }, code: INVALID_ARGUMENT, message: /input 'INPUT0': parameters.shared_memory_byte_size must be given with shared_memory_region/ },
  { name: 'a shared-memory input when client shared memory is off', edit: (m) => { m.inputs[0].parameters = { shared_memory_region: { string_param: 'r' }, shared_memory_byte_size: { int64_param: 64 } }; m.raw_input_contents.shift(); }, code: UNIMPLEMENTED, message: /Start the server with '--allow-client-shm=true' to enable/ },
  { name: 'a classification count that is not an int64_param', edit: (m) => { m.outputs = [{ name: 'OUTPUT0', parameters: { classification: { string_param: '2' } } }]; }, code: INVALID_ARGUMENT, message: /^invalid value type for 'classification' parameter, expected int64_param$/ },
  { name: 'a classification count of 0', edit: (m) => { m.outputs = [{ name: 'OUTPUT0', parameters: { classification: { int64_param: 0 } } }]; }, code: INVALID_ARGUMENT, message: /^invalid value for 'classification' parameter, expected >= 0$/ },
  { name: 'a classification output in shared memory', edit: (m) => { m.outputs = [{ name: 'OUTPUT0', parameters: { classification: { int64_param: 2 }, shared_memory_region: { string_param: 'r' }, shared_memory_byte_size: { int64_param: 64 } } }]; }, code: INVALID_ARGUMENT, message: /^output can't set both 'shared_memory_region' and 'classification'$/ },
  { name: 'a classification of an FP16 output', request: allTypes, edit: (m) => { m.outputs = [{ name: 'OUT_FP16', parameters: { classification: { int64_param: 1 } } }]; }, code: INVALID_ARGUMENT, message: /^class result not available for output due to unsupported type 'FP16'$/ },
  { name: 'a classification of a BYTES output', request: allTypes, edit: (m) => { m.outputs = [{ name: 'OUT_BYTES', parameters: { classification: { int64_param: 1 } } }]; }, code: INVALID_ARGUMENT, message: /^class result not available for output due to unsupported type 'BYTES'$/ },
];

describe('gRPC bad inference requests', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity', 'all_types')}`]);
  });
  after(() => ts.close());

  for (const c of cases) {
    test(`answers ${grpc.status[c.code]} to ${c.name}`, async () => {
      const msg = c.request ? c.request() : simple(c.typed);
      c.edit?.(msg);
      await assert.rejects(ts.grpc.call('ModelInfer', msg), (err: grpc.ServiceError) => {
        assert.equal(err.code, c.code, `code ${grpc.status[err.code]}: ${err.details}`);
        assert.match(err.details, c.message);
        return true;
      });
    });
  }

  test('keeps serving good requests after all of them', async () => {
    const result = await ts.grpc.infer('simple', simpleInputs());
    assert.deepEqual(Array.from(result.outputs[0].data as Int32Array), simpleExpected().sum);
  });
});
