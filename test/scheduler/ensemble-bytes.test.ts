/**
 * BYTES through an ensemble whose steps hold them in different forms: the JavaScript
 * simple_identity carries any bytes, the ONNX string_identity only UTF-8 text without NUL. Each
 * step gets the same bytes in its own form; a step that cannot take an element refuses it, named,
 * and nothing is changed on the way.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeBytesElements } from '../../src/bytes-elements.ts';
import { repositoryOf, startTestServer, type TestServer } from '../helpers/server.ts';

const io = (prefix: string) => `${prefix} [ { name: "${prefix === 'input' ? 'IN' : 'OUT'}" data_type: TYPE_STRING dims: [ -1 ] } ]`;
const step = (model: string, from: string, to: string) =>
  `{ model_name: "${model}" model_version: -1 input_map { key: "INPUT0" value: "${from}" } output_map { key: "OUTPUT0" value: "${to}" } }`;

describe('BYTES through an ensemble of a JavaScript and an ONNX step', () => {
  let s: TestServer;
  before(async () => {
    const repo = repositoryOf('simple_identity', 'string_identity');
    const ensembles: Record<string, string> = {
      // JavaScript first, then ONNX: the ONNX step refuses what it cannot carry.
      js_then_onnx: `${step('simple_identity', 'IN', 'MID')}, ${step('string_identity', 'MID', 'OUT')}`,
      // JavaScript only: every byte passes.
      js_only: step('simple_identity', 'IN', 'OUT'),
    };
    for (const [name, steps] of Object.entries(ensembles)) {
      mkdirSync(path.join(repo, name, '1'), { recursive: true });
      writeFileSync(path.join(repo, name, 'config.pbtxt'),
        `name: "${name}"\nplatform: "ensemble"\nmax_batch_size: 8\n${io('input')}\n${io('output')}\nensemble_scheduling { step [ ${steps} ] }\n`);
    }
    s = await startTestServer([`--model-repository=${repo}`]);
  });
  after(() => s?.close());

  const infer = (model: string, elements: Buffer[]) => {
    const raw = encodeBytesElements(elements.map((e) => e.toString('latin1')), 'binary');
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'IN', datatype: 'BYTES', shape: [1, elements.length], parameters: { binary_data_size: raw.length } }],
      outputs: [{ name: 'OUT', parameters: { binary_data: true } }],
    }));
    return fetch(`${s.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' },
      body: Buffer.concat([header, raw]),
    });
  };
  const output = async (res: Response): Promise<Buffer> => {
    assert.equal(res.status, 200, await res.clone().text());
    const body = Buffer.from(await res.arrayBuffer());
    return body.subarray(Number(res.headers.get('inference-header-content-length')));
  };
  const text = [Buffer.from('é😀', 'utf8'), Buffer.from('plain', 'utf8')];
  const expected = (elements: Buffer[]) => encodeBytesElements(elements.map((e) => e.toString('latin1')), 'binary');

  test('UTF-8 text passes both steps byte for byte', async () => {
    assert.deepEqual(await output(await infer('js_then_onnx', text)), expected(text));
  });

  test('bytes the ONNX step cannot carry are refused at that step, with the element named', async () => {
    const res = await infer('js_then_onnx', [Buffer.from('ok'), Buffer.from([0xff, 0x00])]);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /step 1 \(model 'string_identity'\).*BYTES element 1 (contains a NUL byte|is not valid UTF-8)/);
  });

  test('every byte value passes an ensemble of JavaScript steps unchanged', async () => {
    const all = [...Array.from({ length: 256 }, (_, b) => Buffer.from([b])), Buffer.from('é', 'utf8')];
    assert.deepEqual(await output(await infer('js_only', all)), expected(all));
  });
});
