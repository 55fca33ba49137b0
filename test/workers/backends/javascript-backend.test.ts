import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repositoryOf, startTestServer, type TestServer } from '../../helpers/server.ts';
import { until } from '../../helpers/batching.ts';
import { binaryBody, jsonOf, postJson, request, splitResponse } from '../../helpers/http.ts';
import { encodeBytesElements } from '../../../src/bytes-elements.ts';

const TYPES: Record<string, { bytes: number[]; elements: number }> = {
  BOOL: { bytes: [1, 0, 1], elements: 3 },
  UINT8: { bytes: [0, 127, 255], elements: 3 },
  UINT16: { bytes: [1, 0, 255, 255], elements: 2 },
  UINT32: { bytes: [1, 2, 3, 4, 255, 255, 255, 255], elements: 2 },
  UINT64: { bytes: [1, 2, 3, 4, 5, 6, 7, 8, 255, 255, 255, 255, 255, 255, 255, 255], elements: 2 },
  INT8: { bytes: [128, 127], elements: 2 },
  INT16: { bytes: [0, 128, 255, 127], elements: 2 },
  INT32: { bytes: [0, 0, 0, 128, 1, 2, 3, 4], elements: 2 },
  INT64: { bytes: [0, 0, 0, 0, 0, 0, 0, 128, 9, 8, 7, 6, 5, 4, 3, 2], elements: 2 },
  FP16: { bytes: [0, 60, 0, 192], elements: 2 },
  FP32: { bytes: [0, 0, 192, 63, 0, 0, 128, 255], elements: 2 },
  FP64: { bytes: [0, 0, 0, 0, 0, 0, 248, 63, 1, 2, 3, 4, 5, 6, 7, 8], elements: 2 },
  BF16: { bytes: [192, 63, 128, 191], elements: 2 },
};
const CLASSES: Record<string, string> = {
  BOOL: 'Uint8Array', UINT8: 'Uint8Array', UINT16: 'Uint16Array', UINT32: 'Uint32Array', UINT64: 'BigUint64Array',
  INT8: 'Int8Array', INT16: 'Int16Array', INT32: 'Int32Array', INT64: 'BigInt64Array',
  FP16: 'Uint16Array', FP32: 'Float32Array', FP64: 'Float64Array', BF16: 'Uint16Array',
};

describe('the JavaScript backend', () => {
  let s: TestServer;
  let scratch: string;
  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf('js_types', 'js_echo')}`]);
    scratch = mkdtempSync(path.join(os.tmpdir(), 'nereid-js-'));
  });
  after(async () => {
    await s.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const echo = (values: number[], parameters?: Record<string, unknown>) => postJson(`${s.url}/v2/models/js_echo/infer`, {
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [values.length, 1], data: values }],
    ...(parameters ? { parameters } : {}),
  });

  test('carries every datatype exactly, as the typed array the contract names, over the binary extension', async () => {
    // BYTES elements: every byte value the text form shared with other backends carries as is (0-127).
    const ascii = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
    const strings = [ascii, Buffer.from('he\x00llo', 'latin1'), Buffer.alloc(0)];
    const parts: Buffer[] = [];
    const inputs = Object.entries(TYPES).map(([type, { bytes, elements }]) => {
      parts.push(Buffer.from(bytes));
      return { name: `IN_${type}`, datatype: type, shape: [elements], parameters: { binary_data_size: bytes.length } };
    });
    const bytesPart = encodeBytesElements(strings.map((b) => b.toString('latin1')));
    parts.push(Buffer.from(bytesPart));
    inputs.push({ name: 'IN_BYTES', datatype: 'BYTES', shape: [strings.length], parameters: { binary_data_size: bytesPart.length } });
    const names = [...Object.keys(TYPES), 'BYTES'];
    const { body, headers } = binaryBody({ inputs, outputs: names.map((t) => ({ name: `OUT_${t}`, parameters: { binary_data: true } })) }, parts);
    const res = await request(`${s.url}/v2/models/js_types/infer`, { method: 'POST', body, headers });
    assert.equal(res.status, 200, res.body.toString());
    const { header, binary } = splitResponse(res);
    let at = 0;
    for (const out of header.outputs) {
      const size = out.parameters.binary_data_size;
      const got = binary.subarray(at, at + size);
      at += size;
      const type = out.name.slice(4);
      assert.equal(out.datatype, type);
      if (type === 'BYTES') assert.deepEqual(Buffer.from(got), Buffer.from(bytesPart), 'BYTES');
      else assert.deepEqual([...got], TYPES[type].bytes, type);
    }
  });

  test('hands the model typed arrays by datatype, and BYTES as an array of Buffers holding their bytes', async () => {
    const inputs = Object.entries(TYPES).map(([type, { elements }]) => ({ name: `IN_${type}`, datatype: type, shape: [elements], data: new Array(elements).fill(type === 'BOOL' ? true : 1) }));
    inputs.push({ name: 'IN_BYTES', datatype: 'BYTES', shape: [2], data: ['ab', ''] });
    const res = await postJson(`${s.url}/v2/models/js_types/infer`, { inputs, outputs: [{ name: 'KINDS' }] });
    assert.equal(res.status, 200, res.body.toString());
    const kinds: string[] = jsonOf(res).outputs[0].data;
    for (const [type, cls] of Object.entries(CLASSES)) assert.ok(kinds.includes(`IN_${type}=${type}:${cls}`), `${type}: ${kinds.join(' ')}`);
    assert.ok(kinds.includes('IN_BYTES=BYTES:Array<Buffer:6162,Buffer:>'), kinds.join(' '));
  });

  test('runs a batched request with its config parameters and reports the instance that ran it', async () => {
    const res = await echo([1.5, -2]);
    assert.equal(res.status, 200, res.body.toString());
    const outputs = Object.fromEntries(jsonOf(res).outputs.map((o: { name: string }) => [o.name, o]));
    assert.deepEqual(outputs.OUTPUT0, { name: 'OUTPUT0', datatype: 'FP32', shape: [2, 1], data: [3, -4] });
    assert.deepEqual(outputs.BATCH.data, [1, 1]);
    assert.match(outputs.INSTANCE.data[0], /^js_echo_0_[01]$/);
  });

  test('fails a request whose response is { error } with a 500 naming the model, and serves the next one', async () => {
    const res = await echo([7], { fail: 'error' });
    assert.equal(res.status, 500);
    assert.deepEqual(jsonOf(res), { error: "model 'js_echo': refused 7" });
    assert.equal((await echo([1])).status, 200);
  });

  test('fails the requests of an execute that throws with a 500 naming the model; the instance stays up', async () => {
    const res = await echo([1], { fail: 'throw' });
    assert.equal(res.status, 500);
    assert.deepEqual(jsonOf(res), { error: "model 'js_echo': asked to throw by a request of 1" });
    const next = await echo([3]);
    assert.equal(next.status, 200);
    assert.deepEqual(jsonOf(next).outputs[0].data, [6]);
  });

  test('runs on each instance of the instance group: a request held on one leaves the other free', async () => {
    const marker = path.join(scratch, 'released');
    const held = echo([1], { hold: marker });
    // The held request keeps its instance busy until the second, on the other instance, releases it.
    await until(() => s.server.registry.get('js_echo').versions.get(1)!.scheduler!.inflightCount() === 1);
    const releasing = await echo([2], { release: marker });
    const first = await held;
    assert.equal(first.status, 200);
    assert.equal(releasing.status, 200);
    const instance = (r: typeof first) => jsonOf(r).outputs.find((o: { name: string }) => o.name === 'INSTANCE').data[0];
    assert.deepEqual([instance(first), instance(releasing)].sort(), ['js_echo_0_0', 'js_echo_0_1']);
  });

  test('reports the model as Triton does: backend javascript, its declared io', async () => {
    const res = await request(`${s.url}/v2/models/js_echo/config`);
    const config = jsonOf(res);
    assert.equal(config.backend, 'javascript');
    assert.equal(config.default_model_filename, 'model.js');
    const meta = jsonOf(await request(`${s.url}/v2/models/js_echo`));
    assert.deepEqual(meta.inputs, [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 1] }]);
  });
});
