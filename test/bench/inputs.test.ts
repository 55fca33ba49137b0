import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { buildInputSets, resolveDims, type ModelInfo } from '../../bench/inputs.ts';

const simple: ModelInfo = {
  name: 'simple',
  maxBatchSize: 8,
  inputs: [{ name: 'INPUT0', datatype: 'INT32', dims: [16] }, { name: 'INPUT1', datatype: 'INT32', dims: [16] }],
  outputs: [{ name: 'OUTPUT0', datatype: 'INT32', dims: [16] }],
};
const variable: ModelInfo = { name: 'v', maxBatchSize: 0, inputs: [{ name: 'X', datatype: 'FP32', dims: [-1, 3] }], outputs: [] };

describe('benchmark inputs', () => {
  test('keep fixed dims, and take variable ones from --shape', () => {
    assert.deepEqual(resolveDims(simple.inputs, {}).map((t) => t.dims), [[16], [16]]);
    assert.deepEqual(resolveDims(variable.inputs, { X: [5, 3] })[0].dims, [5, 3]);
  });

  test('refuse a variable dim left open, a --shape that does not fit, and an unknown input', () => {
    assert.throws(() => resolveDims(variable.inputs, {}), /input 'X' has variable dims \[-1,3\]: give them with --shape X:d1,d2/);
    assert.throws(() => resolveDims(variable.inputs, { X: [5, 4] }), /--shape X:5,4 does not fit the input's dims \[-1,3\]/);
    assert.throws(() => resolveDims(variable.inputs, { X: [5] }), /does not fit/);
    assert.throws(() => resolveDims(variable.inputs, { Y: [1] }), /--shape names 'Y', which is not an input of the model \(inputs: X\)/);
  });

  test('zeros fill [batch, ...dims] for a batching model', () => {
    const [set] = buildInputSets(simple, simple.inputs, { kind: 'zeros' }, 4);
    assert.equal(set.length, 2);
    assert.deepEqual(set[0].shape, [4, 16]);
    assert.equal((set[0].data as unknown[]).length, 64);
    assert.ok((set[0].data as number[]).every((v) => v === 0));
  });

  test('random data is the same every run, and not all zeros', () => {
    const a = buildInputSets(simple, simple.inputs, { kind: 'random' }, 1)[0][0].data as number[];
    const b = buildInputSets(simple, simple.inputs, { kind: 'random' }, 1)[0][0].data as number[];
    assert.deepEqual(a, b);
    assert.ok(a.some((v) => v !== 0));
  });

  test('a model that does not batch takes the dims as the shape, and only batch size 1', () => {
    const [set] = buildInputSets(variable, [{ name: 'X', datatype: 'FP32', dims: [2, 3] }], { kind: 'zeros' }, 1);
    assert.deepEqual(set[0].shape, [2, 3]);
    assert.throws(() => buildInputSets(variable, variable.inputs, { kind: 'zeros' }, 2), /does not batch \(max_batch_size 0\): --batch-size must be 1/);
    assert.throws(() => buildInputSets(simple, simple.inputs, { kind: 'zeros' }, 9), /--batch-size 9 is above model 'simple''s max_batch_size 8/);
  });

  describe('from a perf_analyzer JSON data file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-bench-inputs-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, body: unknown) => {
      const p = path.join(dir, name);
      writeFileSync(p, JSON.stringify(body));
      return p;
    };
    const sixteen = (k: number) => Array.from({ length: 16 }, (_, i) => i + k);

    test('gives one input set per entry, plain arrays or content with a shape, repeated over the batch', () => {
      const p = file('two.json', { data: [{ INPUT0: sixteen(0), INPUT1: { content: sixteen(100), shape: [16] } }, { INPUT0: [sixteen(1)], INPUT1: sixteen(2) }] });
      const sets = buildInputSets(simple, simple.inputs, { kind: 'file', path: p }, 2);
      assert.equal(sets.length, 2);
      assert.deepEqual(sets[0][1].shape, [2, 16]);
      assert.deepEqual(sets[0][1].data, [...sixteen(100), ...sixteen(100)]);
      assert.deepEqual(sets[1][0].data, [...sixteen(1), ...sixteen(1)]); // nested arrays are flattened
    });

    test('refuses an entry without an input, values that do not fill the dims, and a file without data', () => {
      assert.throws(() => buildInputSets(simple, simple.inputs, { kind: 'file', path: file('missing.json', { data: [{ INPUT0: sixteen(0) }] }) }, 1), /data entry 0 has no 'INPUT1'/);
      assert.throws(() => buildInputSets(simple, simple.inputs, { kind: 'file', path: file('short.json', { data: [{ INPUT0: [1, 2], INPUT1: sixteen(0) }] }) }, 1), /input 'INPUT0': 2 values do not fill dims \[16\]/);
      assert.throws(() => buildInputSets(simple, simple.inputs, { kind: 'file', path: file('empty.json', { data: [] }) }, 1), /expected \{"data": \[/);
    });
  });
});
