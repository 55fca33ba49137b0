import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Packr } from 'msgpackr';
import type { BatchTensor, DirectOutput, GatheredTensor } from '../../src/shm/index.ts';
import { decodeDescriptor, encodeDescriptor } from '../../src/workers/descriptor-codec.ts';
import type { RunTask, WorkerReply } from '../../src/workers/index.ts';

const slot = (name: string, offset: number): BatchTensor => ({ name, type: 'int32', dims: [1, 16], offset, byteLength: 64 });
const gathered: GatheredTensor = {
  name: 'input__0', type: 'float32', dims: [4, 3], byteLength: 48,
  parts: [{ offset: 0, byteLength: 12 }, { file: { fd: 41, position: 4096, byteLength: 12 }, request: 1, source: 0 }, { offset: 12, byteLength: 24 }],
};
const direct: DirectOutput[] = [{ name: 'output__0', request: 1, rows: [1, 1], file: { fd: 41, position: 8192, byteLength: 40 } }, { name: 'output__0', request: 2, rows: null, file: { fd: 42, position: 0, byteLength: 40 } }];
const simpleTask: RunTask = { op: 'run', slot: 1, inputs: [slot('INPUT0', 0), slot('INPUT1', 64)], outputs: ['OUTPUT0', 'OUTPUT1'] };

const cases: { name: string; value: RunTask | WorkerReply }[] = [
  { name: "simple's task", value: simpleTask },
  { name: 'a task with gathered parts, direct outputs and written-only outputs', value: { op: 'run', slot: 0, inputs: [gathered, { name: 'TEXT', type: 'string', dims: [2], strings: ['a', 'é✓'] }], outputs: ['output__0'], direct, writtenOnly: ['output__0'] } },
  { name: 'a run reply', value: { ok: true, op: 'run', outputs: [slot('OUTPUT0', 128), { name: 'output__0', type: 'float32', dims: [4, 10], written: true }], timings: { inputNs: 1, inferNs: 2.5e6, outputNs: 3 }, instance: 7, direct: { failedReads: [{ request: 1, source: 0, reason: 'EBADF' }], writes: [{ written: 40 }, { tooLarge: 80 }, { failed: 'EIO' }] } } },
  { name: 'a load reply (a shape not declared)', value: { ok: true, op: 'load', inputs: [{ name: 'x', type: 'FP32', shape: [-1, 3] }], outputs: [] } },
  { name: 'a failure', value: { ok: false, message: "model 'm': boom" } },
];

describe('descriptor codec', () => {
  for (const { name, value } of cases) {
    test(`gives back ${name} unchanged`, () => {
      const bytes = encodeDescriptor(value);
      assert.deepEqual(decodeDescriptor(bytes), value);
      // Twice: the second message must not rely on anything the first one defined.
      assert.deepEqual(decodeDescriptor(encodeDescriptor(value)), value);
    });
  }

  test('packs into a buffer of exactly the message, which can be moved', () => {
    const bytes = encodeDescriptor(simpleTask);
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.byteLength);
  });

  test('writes the declared shapes as one-byte references, not inline definitions', () => {
    const inline = new Packr().pack(simpleTask).length;
    const declared = encodeDescriptor(simpleTask).length;
    assert.ok(declared < inline * 0.75, `declared ${declared} bytes, inline ${inline}`);
  });
});
