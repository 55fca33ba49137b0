/**
 * ModelInfer end to end: a real server on port 0 and a real gRPC client, with every datatype in
 * raw and typed contents, 64-bit values and parameters of every kind. The answers that every
 * transport shares (simple, BYTES, output selection, versions) are in test/api/conformance/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClientTensor } from '../../../src/client/index.ts';
import { repositoryOf } from '../../helpers/server.ts';
import { simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

describe('gRPC ModelInfer', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'all_types')}`]);
  });
  after(() => ts.close());

  test('accepts request parameters of every kind', async () => {
    const result = await ts.grpc.infer('simple', simpleInputs(), { parameters: { flag: true, count: 3, ratio: 0.5, label: 'x', big: 2n ** 62n } });
    assert.equal(result.outputs.length, 2);
  });

  test('carries every datatype with a typed contents field through all_types, exactly', async () => {
    const values: Record<string, unknown[]> = {
      BOOL: [true, false, true],
      UINT8: [0, 7, 255],
      UINT16: [0, 300, 65535],
      UINT32: [0, 70000, 2 ** 32 - 1],
      UINT64: [0n, 2n ** 53n + 1n, 2n ** 64n - 1n],
      INT8: [-128, 0, 127],
      INT16: [-32768, 5, 32767],
      INT32: [-(2 ** 31), 0, 2 ** 31 - 1],
      INT64: [-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n],
      FP32: [0.5, -2.25, 1e10],
      FP64: [Math.PI, -1e300, 5e-324],
      BYTES: ['x', '', 'zz'],
    };
    const typed: ClientTensor[] = Object.entries(values).map(([t, data]) => ({ name: `IN_${t}`, datatype: t, shape: [1, 3], data }));
    // FP16 has no typed field, so only an empty FP16 tensor can come in a typed request.
    typed.push({ name: 'IN_FP16', datatype: 'FP16', shape: [1, 0], data: [] });
    const result = await ts.grpc.infer('all_types', typed, { contents: 'typed', outputs: Object.keys(values).map((t) => `OUT_${t}`) });
    for (const out of result.outputs) {
      const t = out.name.slice('OUT_'.length);
      const got = Array.from(out.data as ArrayLike<unknown>);
      const want = t === 'BOOL' ? values[t].map((v) => (v ? 1 : 0)) : t === 'FP32' ? Array.from(new Float32Array(values[t] as number[])) : values[t];
      assert.deepEqual(got, want, t);
    }
  });

  test('carries FP16 and every other datatype from raw contents', async () => {
    const half = new Uint16Array([0x3c00, 0xc000, 0x7bff]); // 1, -2, 65504
    const inputs: ClientTensor[] = [
      { name: 'IN_BOOL', datatype: 'BOOL', shape: [1, 2], data: [true, false] },
      { name: 'IN_UINT8', datatype: 'UINT8', shape: [1, 1], data: [1] },
      { name: 'IN_UINT16', datatype: 'UINT16', shape: [1, 1], data: [1] },
      { name: 'IN_UINT32', datatype: 'UINT32', shape: [1, 1], data: [1] },
      { name: 'IN_UINT64', datatype: 'UINT64', shape: [1, 1], data: new BigUint64Array([2n ** 64n - 1n]) },
      { name: 'IN_INT8', datatype: 'INT8', shape: [1, 1], data: [-1] },
      { name: 'IN_INT16', datatype: 'INT16', shape: [1, 1], data: [-1] },
      { name: 'IN_INT32', datatype: 'INT32', shape: [1, 1], data: [-1] },
      { name: 'IN_INT64', datatype: 'INT64', shape: [1, 1], data: new BigInt64Array([-(2n ** 63n)]) },
      { name: 'IN_FP16', datatype: 'FP16', shape: [1, 3], data: half },
      { name: 'IN_FP32', datatype: 'FP32', shape: [1, 1], data: [1.5] },
      { name: 'IN_FP64', datatype: 'FP64', shape: [1, 1], data: [2.5] },
      { name: 'IN_BYTES', datatype: 'BYTES', shape: [1, 1], data: ['b'] },
    ];
    const result = await ts.grpc.infer('all_types', inputs, { outputs: ['OUT_FP16', 'OUT_UINT64', 'OUT_INT64'] });
    const out = (name: string) => Array.from(result.outputs.find((o) => o.name === name)!.data as ArrayLike<unknown>);
    assert.deepEqual(result.outputs.map((o) => o.name).sort(), ['OUT_FP16', 'OUT_INT64', 'OUT_UINT64']);
    assert.deepEqual(out('OUT_FP16'), Array.from(half));
    assert.deepEqual(out('OUT_UINT64'), [2n ** 64n - 1n]);
    assert.deepEqual(out('OUT_INT64'), [-(2n ** 63n)]);
  });
});
