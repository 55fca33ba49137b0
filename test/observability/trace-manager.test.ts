import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ServerError } from '../../src/errors.ts';
import { TraceManager } from '../../src/observability/trace-manager.ts';
import { checkTraceUpdate, DEFAULT_TRACE_SETTING, type TraceSetting } from '../../src/cli/trace-settings.ts';
import { tensorText } from '../../src/observability/request-trace.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-trace-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const setting = (s: Partial<TraceSetting>): TraceSetting => ({ ...DEFAULT_TRACE_SETTING, level: ['TIMESTAMPS'], file: path.join(dir, `t${files++}.json`), ...s });

/** Which of `n` requests to `model` were sampled (1-based). */
function sampled(m: TraceManager, model: string, n: number): number[] {
  const hits: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t = m.sample(model, 1, undefined);
    if (t) {
      hits.push(i);
      t.end(process.hrtime.bigint());
    }
  }
  return hits;
}

describe('trace sampling', () => {
  test('traces every rate-th request', () => {
    assert.deepEqual(sampled(new TraceManager(setting({ rate: 3 })), 'm', 10), [3, 6, 9]);
  });

  test('stops after count traces, and shows the count left', () => {
    const m = new TraceManager(setting({ rate: 1, count: 2 }));
    assert.deepEqual(sampled(m, 'm', 5), [1, 2]);
    assert.equal(m.get().trace_count, '0');
  });

  test('traces nothing while the level is OFF, the rate is 0 or no file is set', () => {
    for (const s of [setting({ level: [], rate: 1 }), setting({ rate: 0 }), setting({ rate: 1, file: '' })]) {
      assert.deepEqual(sampled(new TraceManager(s), 'm', 5), []);
    }
  });

  test('gives a model with its own values its own counter, and shares the global one otherwise', () => {
    const m = new TraceManager(setting({ rate: 2 }));
    m.update({ trace_rate: '3' }, 'a');
    assert.deepEqual(sampled(m, 'a', 6), [3, 6]);
    assert.deepEqual([...sampled(m, 'b', 1), ...sampled(m, 'c', 1)], [1], 'b and c share the global count: c is its 2nd request');
    assert.equal(m.get('a').trace_rate, '3');
    assert.equal(m.get('b').trace_rate, '2');
  });

  test('clears a model value with null, and a global one back to its start-up value', () => {
    const m = new TraceManager(setting({ rate: 5 }));
    m.update({ trace_rate: '1', trace_level: ['TENSORS'] }, 'a');
    assert.deepEqual(m.update({ trace_rate: null }, 'a').trace_rate, '5');
    assert.deepEqual(m.get('a').trace_level, ['TENSORS']);
    assert.deepEqual(m.update({ trace_level: null }, 'a').trace_level, ['TIMESTAMPS']);
    m.update({ trace_rate: '9' });
    assert.equal(m.get('a').trace_rate, '9', 'a model without values follows the global setting');
    assert.equal(m.update({ trace_rate: null }).trace_rate, '5');
  });

  test('writes traces as one growing JSON array that parses after every write', async () => {
    const s = setting({ rate: 1 });
    const m = new TraceManager(s);
    sampled(m, 'm', 1);
    await m.flush();
    assert.equal(JSON.parse(readFileSync(s.file, 'utf8')).length, 2);
    sampled(m, 'm', 2);
    await m.flush();
    const items = JSON.parse(readFileSync(s.file, 'utf8'));
    assert.deepEqual(items.filter((i: { model_name?: string }) => i.model_name).map((i: { id: number }) => i.id), [1, 2, 3]);
    await m.close();
  });

  test('writes what is left of a log_frequency group on close, into the next indexed file', async () => {
    const s = setting({ rate: 1, logFrequency: 2 });
    const m = new TraceManager(s);
    sampled(m, 'm', 3);
    await m.close();
    const ids = (f: string) => JSON.parse(readFileSync(f, 'utf8')).filter((i: { model_name?: string }) => i.model_name).map((i: { id: number }) => i.id);
    assert.deepEqual(ids(`${s.file}.0`), [1, 2]);
    assert.deepEqual(ids(`${s.file}.1`), [3]);
  });
});

describe('trace setting updates', () => {
  test('take strings, level lists and nulls', () => {
    assert.deepEqual(checkTraceUpdate({ trace_level: ['TENSORS', 'TIMESTAMPS'], trace_rate: '10', trace_count: '-1', log_frequency: '0' }), {
      level: ['TIMESTAMPS', 'TENSORS'], rate: 10, count: -1, logFrequency: 0,
    });
    assert.deepEqual(checkTraceUpdate({ trace_level: ['OFF'], trace_rate: null, trace_mode: 'triton' }), { level: [], rate: null });
  });

  test('refuse bad values with a ServerError naming the field', () => {
    const cases: [unknown, number, RegExp][] = [
      [{ trace_count: '1e3' }, 400, /Unable to parse 'trace_count', got: 1e3/],
      [{ log_frequency: '4294967296' }, 400, /out of range \[ 0, 4294967295 \]/],
      [{ trace_level: [1] }, 400, /'trace_level' must be an array of strings/],
      [{ trace_file: null }, 501, /trace file location can not be updated/],
      [null, 400, /must be a JSON object/],
    ];
    for (const [body, status, message] of cases) {
      assert.throws(() => checkTraceUpdate(body), (err: ServerError) => err.httpStatus === status && message.test(err.message));
    }
  });
});

describe('tensor text in traces', () => {
  test('writes values comma-separated, half floats as numbers and strings as they are', () => {
    const raw = (view: ArrayBufferView) => ({ kind: 'raw', bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength) }) as const;
    assert.equal(tensorText('INT32', raw(new Int32Array([1, -2, 3]))), '1,-2,3');
    assert.equal(tensorText('FP16', raw(new Uint16Array([0x3c00, 0xc000]))), '1,-2');
    assert.equal(tensorText('INT64', raw(new BigInt64Array([2n ** 60n]))), String(2n ** 60n));
    assert.equal(tensorText('BYTES', { kind: 'strings', strings: ['a', 'b c'] }), 'a,b c');
    // A view at an odd offset of a body, as binary contents arrive.
    const body = new Uint8Array(9);
    body.set(new Uint8Array(new Float32Array([0.5, 2]).buffer), 1);
    assert.equal(tensorText('FP32', { kind: 'raw', bytes: body.subarray(1) }), '0.5,2');
  });
});
