import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { inferValue, outputValue, startRepoServer, type RepoServer } from '../helpers/batching.ts';
import { slowConfig } from '../helpers/repo.ts';
import { jsonOf, postJson, simpleRequest } from '../helpers/http.ts';
import { CRASH_MARKER, onCrashBackend, registerCrashBackend } from '../helpers/crash-backend.ts';
import type { PiscinaInstance } from '../../src/instance/index.ts';
import { isMovedTensor } from '../../src/shm/index.ts';

const guard = { timeout: 60_000 };
const simpleConfig = `platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
`;

// A model on the test_crash backend dies on a marked request; register before any server starts.
registerCrashBackend();

describe('model instances', () => {
  const servers: RepoServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  it('runs two instances of a group side by side, one batch each', guard, async () => {
    const s = await startRepoServer({ slow: { from: 'slow', config: slowConfig('instance_group [ { count: 2 kind: KIND_CPU } ]', 1) } });
    servers.push(s);
    const answers = await Promise.all([inferValue(s.url, 'slow', 1), inferValue(s.url, 'slow', 2)]);
    assert.deepEqual(answers.map(outputValue), [1, 2]);
    const instances = s.stats('slow').instanceStats();
    assert.equal(instances.length, 2);
    assert.deepEqual(instances.map((i) => [i.group, i.device, i.executions]), [['slow_0', 'CPU', 1], ['slow_0', 'CPU', 1]]);
    assert.deepEqual(instances.map((i) => i.instance).sort(), ['slow_0_0', 'slow_0_1']);
  });

  it('names each instance after its group, as Triton does, and places it on its device', guard, async () => {
    const s = await startRepoServer({ slow: { from: 'slow', config: slowConfig('instance_group [ { name: "a" count: 1 kind: KIND_CPU }, { name: "b" count: 2 kind: KIND_CPU } ]', 1) } });
    servers.push(s);
    const instances = s.scheduler('slow').instances.all;
    assert.deepEqual(instances.map((i) => [i.name, i.group, i.device]), [['a_0', 'a', 'CPU'], ['b_0', 'b', 'CPU'], ['b_1', 'b', 'CPU']]);
    await Promise.all([1, 2, 3].map((v) => inferValue(s.url, 'slow', v)));
    const groups = s.stats('slow').instanceStats().map((i) => i.group).sort();
    assert.deepEqual(groups, ['a', 'b', 'b']);
  });

  it('runs a batch on the one instance it is sent to', guard, async () => {
    const s = await startRepoServer({ slow: { from: 'slow', config: slowConfig('instance_group [ { count: 2 kind: KIND_CPU } ]', 1) } });
    servers.push(s);
    const set = s.scheduler('slow').instances;
    const [first, second] = ['slow_0_0', 'slow_0_1'].map((name) => set.byName(name) as PiscinaInstance);
    assert.ok(first && second);
    assert.notEqual(first.threadId, second.threadId);
    for (const value of [5, 6]) {
      // No ring slot: the input is moved across, and the output comes back moved.
      const input = { name: 'INPUT0', type: 'float32', dims: [1, 1], buffer: new Float32Array([value]).buffer };
      const result = await second.run({ slot: -1, inputs: [input], outputs: ['OUTPUT0'] });
      assert.equal(result.worker, second.threadId);
      const [out] = result.outputs;
      assert.ok(isMovedTensor(out));
      assert.equal(new Float32Array(out.buffer)[0], value);
    }
    assert.equal(set.byName('slow_0_2'), undefined);
  });

  it('fails only the batch of a worker that dies, replaces the worker, and keeps other models serving', guard, async () => {
    const s = await startRepoServer({
      slow: { from: 'slow', config: onCrashBackend(slowConfig('')) },
      simple: { from: 'simple', config: simpleConfig },
    });
    servers.push(s);
    const failed = await inferValue(s.url, 'slow', CRASH_MARKER);
    assert.equal(failed.status, 500);
    assert.match(jsonOf(failed).error, /^model 'slow': /);
    const other = await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(1));
    assert.equal(other.status, 200);
    assert.equal(outputValue(await inferValue(s.url, 'slow', 2)), 2);
    assert.equal(outputValue(await inferValue(s.url, 'slow', 3)), 3);
    assert.equal(s.stats('slow').fail.count, 1);
    assert.equal(s.stats('slow').failReasons.BACKEND, 1);
    // The worker died holding a slot (RUNNING): it was released all the same.
    for (const instance of s.scheduler('slow').instances.all) assert.equal(instance.ring.freeCount, 2, `every ring slot of ${instance.name} is free again`);
    assert.equal((await fetch(`${s.url}/v2/models/slow/ready`)).status, 200);
  });

  it('fails a KIND_GPU model\'s load with a clear message where the CUDA provider is missing, and serves the others', guard, async () => {
    const s = await startRepoServer({
      gpu: { from: 'slow', config: slowConfig('instance_group [ { count: 1 kind: KIND_GPU gpus: [ 0 ] } ]') },
      simple: { from: 'simple', config: `${simpleConfig}instance_group [ { kind: KIND_CPU } ]\n` },
    }, ['--gpus=0']);
    servers.push(s);
    // No CUDA provider on this machine: the load fails before any thread starts, saying how to install it.
    assert.match(s.server.registry.get('gpu').reason,
      /^model 'gpu': instance_group 'gpu_0': KIND_GPU needs onnxruntime's CUDA execution provider, which is not installed here \(install it as docs\/install\.md#gpu says, or use KIND_CPU or KIND_AUTO\)$/);
    assert.equal((await fetch(`${s.url}/v2/models/gpu/ready`)).status, 400);
    assert.equal((await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(1))).status, 200);
  });

  it('runs KIND_AUTO (and a group with no kind) on the CPU where a GPU is named but the CUDA provider is missing, saying why', guard, async () => {
    const s = await startRepoServer({
      auto: { from: 'slow', config: slowConfig('instance_group [ { count: 1 kind: KIND_AUTO } ]') },
      unset: { from: 'slow', config: slowConfig('instance_group [ { count: 1 } ]') },
    }, ['--gpus=0']);
    servers.push(s);
    for (const model of ['auto', 'unset']) {
      const config = s.server.registry.get(model).config!;
      assert.deepEqual(config.instanceGroups.map((g) => [g.kind, g.gpus]), [['KIND_CPU', []]]);
      assert.equal(outputValue(await inferValue(s.url, model, 5)), 5);
    }
    assert.ok(s.log.some((line) => /^found 1 GPU but not onnxruntime's CUDA execution provider: instance groups of KIND_AUTO \(or no kind\) run on the CPU/.test(line)), s.log.join('\n'));
  });

  it('fails the load of a model whose backend is not registered, naming the backend, and serves the others', guard, async () => {
    const s = await startRepoServer({
      mystery: { from: 'slow', config: slowConfig('').replace('platform: "onnxruntime_onnx"', 'backend: "no_such_backend"') },
      slow: { from: 'slow', config: slowConfig('') },
    });
    servers.push(s);
    const version = s.server.registry.get('mystery').versions.get(1)!;
    assert.equal(version.state, 'UNAVAILABLE');
    assert.match(version.reason, /^failed to load version 1: backend 'no_such_backend' is not known; the backends here are: onnxruntime, javascript, test_crash$/);
    const index = jsonOf(await postJson(`${s.url}/v2/repository/index`, {})) as { name: string; state: string; reason: string }[];
    assert.deepEqual(index.find((m) => m.name === 'mystery'), { name: 'mystery', version: '1', state: 'UNAVAILABLE', reason: version.reason });
    assert.equal((await fetch(`${s.url}/v2/models/mystery/ready`)).status, 400);
    assert.equal(outputValue(await inferValue(s.url, 'slow', 2)), 2);
  });

  it('refuses KIND_GPU on a machine without GPUs, naming the group', guard, async () => {
    const s = await startRepoServer({ gpu: { from: 'slow', config: slowConfig('instance_group [ { count: 1 kind: KIND_GPU } ]') } }, ['--gpus=']);
    servers.push(s);
    assert.match(s.server.registry.get('gpu').reason, /instance_group 'gpu_0': KIND_GPU needs a GPU, and none was found/);
  });
});
