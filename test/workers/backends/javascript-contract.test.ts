import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JavaScriptBackend } from '../../../src/workers/backends/javascript.ts';
import { makeRepository } from '../../helpers/repo.ts';
import { startTestServer } from '../../helpers/server.ts';
import { jsonOf, request } from '../../helpers/http.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A model directory holding `code` as 1/<file>; returns the file's path. */
function modelFile(code: string, file = 'model.js'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-jsmodel-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'm', '1'), { recursive: true });
  writeFileSync(path.join(dir, 'm', '1', 'helper.js'), 'export const suffix = Buffer.from([255]);\n');
  writeFileSync(path.join(dir, 'm', '1', file), code);
  return path.join(dir, 'm', '1', file);
}

const bytesConfig = {
  max_batch_size: 0,
  input: [{ name: 'IN', data_type: 'TYPE_STRING', dims: ['-1'] }],
  output: [{ name: 'OUT', data_type: 'TYPE_STRING', dims: ['-1'] }],
};
const setup = (modelPath: string, config: Record<string, unknown> = bytesConfig) => ({
  model: 'm', version: 1, modelPath, device: { kind: 'cpu' as const }, intraOpThreads: 1, interOpThreads: 1, instance: 'm_0_0', config,
});

describe('the JavaScript backend contract, in the worker', () => {
  test('hands BYTES elements with every byte value 0-255 to the model as Buffers, and takes them back exactly', async () => {
    // model.js is a bare .js file in a folder without package.json: it still loads as an ES
    // module, relative imports included.
    const file = modelFile(`import { suffix } from './helper.js';
export default class {
  execute(requests) {
    return requests.map(({ inputs }) => ({ outputs: { OUT: { datatype: 'BYTES', shape: inputs.IN.shape, data: inputs.IN.data.map((b) => Buffer.concat([b, suffix])) } } }));
  }
}
`);
    const backend = new JavaScriptBackend();
    await backend.load(setup(file));
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const strings = [every.toString('latin1'), ''];
    const out = await backend.execute({ IN: { type: 'string', dims: [2], data: strings } }, ['OUT']);
    const got = (out.OUT.data as string[]).map((s) => Buffer.from(s, 'latin1'));
    assert.deepEqual(got, [Buffer.concat([every, Buffer.from([255])]), Buffer.from([255])]);
    await backend.unload();
  });

  test('where the server holds BYTES as text, takes them as UTF-8 and refuses an output element that is not UTF-8', async () => {
    const file = modelFile(`export default class {
  execute(requests) {
    return requests.map(({ inputs }) => ({ outputs: { OUT: { datatype: 'BYTES', shape: [2], data: [Buffer.concat(inputs.IN.data), Buffer.from([0xff])] } } }));
  }
}
`);
    const backend = new JavaScriptBackend();
    await backend.load({ ...setup(file), bytesForm: 'text' });
    const outcome = await backend.executeRequests({ IN: { type: 'string', dims: [2], data: ['h\u00e9', '\u{1F642}'] } }, ['OUT'], { rows: [1], parameters: [undefined] });
    assert.deepEqual(outcome.errors, ["output 'OUT': element 1 is not valid UTF-8, which this server carries only as text"]);
  });

  test('resolves a package the model\'s folder cannot find among the packages installed beside the server', async () => {
    // The model lies in a temporary folder, far from any node_modules; msgpackr is the server's.
    const file = modelFile(`import { pack, unpack } from 'msgpackr';
export default class {
  execute(requests) {
    return requests.map(({ inputs }) => ({ outputs: { OUT: { datatype: 'BYTES', shape: [1], data: [Buffer.from(JSON.stringify(unpack(pack({ n: inputs.IN.data.length }))))] } } }));
  }
}
`);
    const backend = new JavaScriptBackend();
    await backend.load(setup(file));
    const out = await backend.execute({ IN: { type: 'string', dims: [3], data: ['a', 'b', 'c'] } }, ['OUT']);
    assert.deepEqual(out.OUT.data, ['{"n":3}']);
    await backend.unload();
  });

  const refusals: { name: string; code: string; file?: string; error: RegExp }[] = [
    { name: 'a module without a default export', code: 'export const x = 1;\n', error: /must export a class by default/ },
    { name: 'a default export without execute', code: 'export default class {}\n', error: /has no execute\(requests\) method/ },
    { name: 'a module that does not parse', code: 'export default class {\n', error: /^cannot import .*model\.js: / },
    { name: 'an initialize that throws', code: 'export default class { initialize() { throw new Error("no weights here"); } execute() {} }\n', error: /^no weights here$/ },
  ];
  for (const c of refusals) {
    test(`fails the load of ${c.name}`, async () => {
      await assert.rejects(new JavaScriptBackend().load(setup(modelFile(c.code, c.file))), { message: c.error });
    });
  }

  test('calls finalize when the instance unloads', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'nereid-fin-')), 'finalized');
    dirs.push(path.dirname(marker));
    const file = modelFile(`import { writeFileSync } from 'node:fs';
export default class { execute() { return []; } finalize() { writeFileSync(${JSON.stringify(marker)}, 'yes'); } }
`);
    const backend = new JavaScriptBackend();
    await backend.load(setup(file));
    await backend.unload();
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(marker, 'utf8'), 'yes');
  });

  test('fails a request whose response does not fit the config, naming the output', async () => {
    const file = modelFile(`export default class {
  execute(requests) { return requests.map(() => ({ outputs: { OUT: { datatype: 'INT32', shape: [1], data: new Int32Array(1) } } })); }
}
`);
    const backend = new JavaScriptBackend();
    await backend.load(setup(file));
    const outcome = await backend.executeRequests({ IN: { type: 'string', dims: [1], data: ['x'] } }, ['OUT'], { rows: [1], parameters: [undefined] });
    assert.deepEqual(outcome.errors, ["output 'OUT' has datatype INT32, but the config declares BYTES"]);
  });
});

describe('loading a backend "javascript" model', () => {
  test('refuses a config without inputs or outputs, naming why', async () => {
    const repo = makeRepository({
      no_io: { from: 'js_echo', config: 'backend: "javascript"\nmax_batch_size: 0\n' },
    });
    const s = await startTestServer([`--model-repository=${repo.dir}`, '--exit-on-error=false']);
    try {
      const index = jsonOf(await request(`${s.url}/v2/repository/index`, { method: 'POST', body: '{}' }));
      const reason = (name: string) => index.find((m: { name: string }) => m.name === name).reason;
      assert.match(reason('no_io'), /a backend "javascript" model must list its inputs under input \(auto-complete cannot read model\.js\)/);
    } finally {
      await s.close();
      repo.remove();
    }
  });
});
