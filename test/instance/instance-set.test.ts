import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { InstanceSet } from '../../src/instance/index.ts';
import { FakeInstance } from '../helpers/fake-instance.ts';

/** Makes `instance` busy until the returned function is called. */
function occupy(instance: FakeInstance): () => void {
  void instance.run({ slot: -1, inputs: [{ name: 'INPUT0', type: 'float32', dims: [1, 1], buffer: new Float32Array([0]).buffer }], outputs: ['OUTPUT0'] });
  const run = instance.runs.at(-1)!;
  return () => run.finish();
}

describe('instance set', () => {
  it('finds an instance by its name', () => {
    const a = new FakeInstance('a_0', 'a');
    const set = new InstanceSet([a, new FakeInstance('b_0', 'b')]);
    assert.equal(set.byName('a_0'), a);
    assert.equal(set.byName('c_0'), undefined);
    assert.equal(set.all.length, 2);
  });

  it('picks a free instance of the group and device with the largest free share', async () => {
    const a0 = new FakeInstance('a_0', 'a');
    const [b0, b1, b2] = [0, 1, 2].map((k) => new FakeInstance(`b_${k}`, 'b'));
    const g0 = new FakeInstance('a_1', 'a', 'GPU 0');
    const set = new InstanceSet([a0, b0, b1, b2, g0]);
    assert.equal(set.pickFree(), a0, 'all free: the first group and device');
    occupy(a0);
    occupy(g0);
    assert.equal(set.pickFree(), b0);
    const freeB0 = occupy(b0);
    occupy(b1);
    assert.equal(set.pickFree(), b2);
    occupy(b2);
    assert.equal(set.pickFree(), null);
    freeB0();
    await turn();
    assert.equal(set.pickFree(), b0);
  });
});
