import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SlotState, TensorRing, alignUp, kAlign } from '../../src/shm/index.ts';

describe('tensor ring', () => {
  it('rounds slots up to the alignment and hands out each slot once', () => {
    const ring = TensorRing.create(3, 100);
    assert.equal(ring.slotBytes, alignUp(100));
    assert.equal(ring.slotBytes % kAlign, 0);
    const taken = [ring.acquire(), ring.acquire(), ring.acquire()];
    assert.deepEqual([...taken].sort(), [0, 1, 2]);
    assert.equal(ring.acquire(), -1);
    ring.release(taken[1]);
    assert.equal(ring.acquire(), taken[1]);
  });

  it('moves a slot through FILLED, RUNNING and DONE, and refuses out-of-order steps', () => {
    const ring = TensorRing.create(2, 64);
    const slot = ring.acquire();
    assert.throws(() => ring.begin(slot), /expected 1/);
    ring.publish(slot);
    assert.equal(ring.state(slot), SlotState.FILLED);
    assert.throws(() => ring.publish(slot), /expected 0/);
    ring.begin(slot);
    ring.finish(slot);
    assert.equal(ring.state(slot), SlotState.DONE);
    ring.release(slot);
    assert.equal(ring.state(slot), SlotState.FREE);
  });

  it('keeps slots apart: writing one slot leaves its neighbours untouched', () => {
    const ring = TensorRing.create(3, 64);
    ring.bytes(1).fill(7);
    assert.ok(ring.bytes(0).every((b) => b === 0));
    assert.ok(ring.bytes(2).every((b) => b === 0));
    assert.ok(ring.bytes(1).every((b) => b === 7));
  });

  it('shares slot bytes and states with a worker thread that attaches to it', async () => {
    const ring = TensorRing.create(2, 64);
    const slot = ring.acquire();
    ring.bytes(slot).set([1, 2, 3]);
    ring.publish(slot);
    const worker = new Worker(fileURLToPath(new URL('../fixtures/workers/ring-doubler.cjs', import.meta.url)), {
      workerData: { sab: ring.sab, slot },
    });
    const code = await new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', resolve);
    });
    assert.equal(code, 0);
    assert.equal(ring.state(slot), SlotState.DONE);
    assert.deepEqual([...ring.bytes(slot).subarray(0, 3)], [2, 4, 6]);
  });
});
