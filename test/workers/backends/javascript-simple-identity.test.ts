/**
 * simple_identity is a JavaScript model (as Triton's is a Python one): the strings Triton's
 * simple_http_string_infer_client and simple_grpc_string_infer_client send, `he\x00llo` among
 * them, come back exactly, over HTTP (JSON and binary) and gRPC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { repositoryOf } from '../../helpers/server.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';
import { binaryBody, jsonOf, postJson, request, splitResponse } from '../../helpers/http.ts';
import { encodeBytesElements } from '../../../src/bytes-elements.ts';

const words = ['he\x00llo', '', 'héllo 🙂', '\x00', 'x'.repeat(1000), '\x7f\x01'];

describe('simple_identity, the JavaScript identity', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple_identity')}`]);
  });
  after(() => ts.close());

  test('returns strings with NUL characters unchanged over HTTP JSON', async () => {
    const res = await postJson(`${ts.url}/v2/models/simple_identity/infer`, { inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, words.length], data: words }] });
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(jsonOf(res).outputs, [{ name: 'OUTPUT0', datatype: 'BYTES', shape: [1, words.length], data: words }]);
  });

  test('returns the same bytes over the HTTP binary extension', async () => {
    const bytes = encodeBytesElements(words);
    const { body, headers } = binaryBody({
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [2, 3], parameters: { binary_data_size: bytes.length } }],
      parameters: { binary_data_output: true },
    }, [bytes]);
    const res = await request(`${ts.url}/v2/models/simple_identity/infer`, { method: 'POST', body, headers });
    assert.equal(res.status, 200, res.body.toString());
    const { header, binary } = splitResponse(res);
    assert.deepEqual(header.outputs[0].shape, [2, 3]);
    assert.deepEqual(Buffer.from(binary), Buffer.from(bytes));
  });

  test('returns them over gRPC, with raw and typed contents', async () => {
    for (const contents of ['raw', 'typed'] as const) {
      const result = await ts.grpc.infer('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, words.length], data: words }], { contents });
      assert.deepEqual(result.outputs[0].data, words, contents);
    }
  });
});
