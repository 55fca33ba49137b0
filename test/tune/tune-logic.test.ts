/** The tuner's pure logic: the search space, the climb, the front, the recommendation, the config text, the state file. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { modelConfigType, parsePbtxt } from '../../src/model-config/index.ts';
import { allCandidates, candidateConfig, candidateKey, isValid, loadState, neighbours, nextClimbStep, paretoFront, recommend, saveResult, searchSpace, snapToSpace, type Candidate, type Scored } from '../../src/tune/index.ts';

const cpu = { kind: 'KIND_CPU', gpus: [] } as const;
const base: Candidate = { device: cpu, instances: 1, maxBatchSize: 32, batching: 'off', preferred: false, intraOpThreads: 1, interOpThreads: 1 };

describe('the search space', () => {
  it('covers the devices, instance counts, batch sizes, batching and threads within the cores', () => {
    const space = searchSpace({ cores: 4, gpus: [0, 1], batches: true });
    assert.deepEqual(space.devices.map((d) => `${d.kind}:${d.gpus.join(',')}`), ['KIND_CPU:', 'KIND_GPU:0', 'KIND_GPU:1']);
    assert.deepEqual(space.instances, [1, 2, 3, 4, 5]);
    assert.deepEqual(space.maxBatchSizes, [1, 2, 4, 8, 16, 32, 64, 128]);
    assert.deepEqual(space.batching, ['off', 0, 100, 500, 2000]);
    assert.deepEqual(space.intraOpThreads, [1, 2, 3, 4]);
    assert.deepEqual(space.interOpThreads, [1, 2]);
  });

  it('does not batch a model without max_batch_size', () => {
    const space = searchSpace({ cores: 2, gpus: [], batches: false });
    assert.deepEqual(space.maxBatchSizes, [0]);
    assert.deepEqual(space.batching, ['off']);
    assert.deepEqual(space.preferred, [false]);
  });

  it('keeps CPU threads within the cores and preferred sizes with dynamic batching', () => {
    assert.equal(isValid({ ...base, instances: 2, intraOpThreads: 2 }, 2), false);
    assert.equal(isValid({ ...base, instances: 2, intraOpThreads: 1 }, 2), true);
    assert.equal(isValid({ ...base, device: { kind: 'KIND_GPU', gpus: [0] }, instances: 3, intraOpThreads: 2 }, 2), true);
    assert.equal(isValid({ ...base, preferred: true }, 2), false);
    assert.equal(isValid({ ...base, batching: 0, preferred: true }, 2), true);
    const all = allCandidates(searchSpace({ cores: 2, gpus: [], batches: true }), 2);
    assert.ok(all.every((c) => isValid(c, 2)));
    assert.equal(new Set(all.map(candidateKey)).size, all.length);
    assert.ok(all.some((c) => c.instances === 2 && c.intraOpThreads === 1));
    assert.ok(!all.some((c) => c.instances > 2));
    assert.ok(!all.some((c) => c.instances === 2 && c.intraOpThreads === 2));
  });

  it('steps one dimension at a time and snaps a default onto the grid', () => {
    const space = searchSpace({ cores: 2, gpus: [], batches: true });
    const snapped = snapToSpace({ ...base, maxBatchSize: 30 }, space);
    assert.equal(snapped.maxBatchSize, 32);
    const keys = neighbours(base, space, 2).map(candidateKey).sort();
    assert.deepEqual(keys, [
      'cpux1/mbs16/nodb/intra1/inter1', 'cpux1/mbs32/db0us/intra1/inter1', 'cpux1/mbs32/nodb/intra1/inter2',
      'cpux1/mbs32/nodb/intra2/inter1', 'cpux1/mbs64/nodb/intra1/inter1', 'cpux2/mbs32/nodb/intra1/inter1',
    ].sort());
    // Two instances on two cores take one intra-op thread each.
    assert.ok(neighbours({ ...base, intraOpThreads: 2 }, space, 2).some((n) => candidateKey(n) === 'cpux2/mbs32/nodb/intra1/inter1'));
  });
});

describe('the quick climb', () => {
  const space = searchSpace({ cores: 2, gpus: [], batches: true });
  const settings = { minGain: 0.05, maxCandidates: 100 };
  // A made-up landscape: batching helps, bigger batches help up to 64, more instances do not.
  const score = (c: Candidate) => (c.batching === 'off' ? 100 : 400) * Math.min(c.maxBatchSize, 64) / 32 / c.instances;

  function climb(start: Candidate): Scored[] {
    const measured: Scored[] = [];
    let current = start;
    for (let guard = 0; guard < 50; guard++) {
      const step = nextClimbStep(start, current, measured, space, 2, settings);
      current = step.current;
      if (step.next.length === 0) return measured;
      for (const c of step.next) measured.push({ candidate: c, score: score(c) });
    }
    throw new Error('the climb did not stop');
  }

  it('measures the start first, then climbs to a better point and stops when gains flatten', () => {
    const measured = climb(base);
    assert.equal(candidateKey(measured[0].candidate), candidateKey(base));
    const best = measured.reduce((a, b) => (b.score > a.score ? b : a));
    assert.equal(best.candidate.batching === 'off', false);
    assert.equal(best.candidate.maxBatchSize, 64);
    assert.equal(best.candidate.instances, 1);
    assert.ok(measured.length < allCandidates(space, 2).length / 4, `${measured.length} measured`);
    assert.equal(new Set(measured.map((m) => candidateKey(m.candidate))).size, measured.length);
  });

  it('stops at the candidate budget', () => {
    const measured: Scored[] = [];
    let current = base;
    for (;;) {
      const step = nextClimbStep(base, current, measured, space, 2, { minGain: 0.05, maxCandidates: 4 });
      current = step.current;
      if (step.next.length === 0) break;
      for (const c of step.next) measured.push({ candidate: c, score: score(c) });
    }
    assert.equal(measured.length, 4);
  });
});

describe('the Pareto front and the recommendation', () => {
  const outcomes = [
    { key: 'a', throughput: 100, p99Ms: 5 },
    { key: 'b', throughput: 300, p99Ms: 20 },
    { key: 'c', throughput: 200, p99Ms: 30 }, // dominated by b
    { key: 'd', throughput: 500, p99Ms: 80 },
    { key: 'e', throughput: 90, p99Ms: 6 }, // dominated by a
    { key: 'f', throughput: NaN, p99Ms: NaN }, // failed
  ];

  it('keeps the candidates nothing beats on both counts, by p99', () => {
    assert.deepEqual(paretoFront(outcomes).map((o) => o.key), ['a', 'b', 'd']);
  });

  it('recommends the highest throughput whose p99 fits the budget', () => {
    assert.equal(recommend(outcomes, 25)?.key, 'b');
    assert.equal(recommend(outcomes, 100)?.key, 'd');
    assert.equal(recommend(outcomes, null)?.key, 'd');
    assert.equal(recommend(outcomes, 5)?.key, 'a');
    assert.equal(recommend(outcomes, 4), null);
  });
});

describe('a candidate\'s config.pbtxt', () => {
  const original = `name: "mlp" # the model
platform: "onnxruntime_onnx"
max_batch_size: 32
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
parameters { key: "intra_op_thread_count" value { string_value: "1" } }
parameters { key: "other" value { string_value: "{kept}" } }
`;

  it('replaces the tuned fields and keeps the others', () => {
    const text = candidateConfig(original, { ...base, instances: 2, maxBatchSize: 64, batching: 500, preferred: true, intraOpThreads: 1, interOpThreads: 2 });
    const parsed = parsePbtxt(text, modelConfigType()) as Record<string, any>;
    assert.equal(parsed.name, 'mlp');
    assert.equal(Number(parsed.max_batch_size), 64);
    assert.equal(parsed.instance_group.length, 1);
    assert.equal(Number(parsed.instance_group[0].count), 2);
    assert.deepEqual(parsed.dynamic_batching.preferred_batch_size.map(Number), [64]);
    assert.equal(Number(parsed.dynamic_batching.max_queue_delay_microseconds), 500);
    assert.deepEqual(Object.keys(parsed.parameters).sort(), ['inter_op_thread_count', 'intra_op_thread_count', 'other']);
    assert.equal(parsed.parameters.other.string_value, '{kept}');
    assert.equal(parsed.parameters.inter_op_thread_count.string_value, '2');
    assert.match(text, /# the model/);
  });

  it('writes no dynamic_batching when batching is off, and GPUs by id', () => {
    const text = candidateConfig(original, { ...base, device: { kind: 'KIND_GPU', gpus: [1] } });
    const parsed = parsePbtxt(text, modelConfigType()) as Record<string, any>;
    assert.equal(parsed.dynamic_batching, undefined);
    assert.equal(parsed.instance_group[0].kind, 'KIND_GPU');
    assert.deepEqual(parsed.instance_group[0].gpus.map(Number), [1]);
  });
});

describe('the state file', () => {
  it('resumes under the same settings and starts afresh under others', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-tune-state-'));
    try {
      const file = path.join(dir, 'state.json');
      let { state, resumed } = loadState<{ t: number }>(file, '{"model":"m"}');
      assert.equal(resumed, false);
      state = saveResult(file, state, 'a', { t: 1 });
      state = saveResult(file, state, 'b', { t: 2 });
      const again = loadState<{ t: number }>(file, '{"model":"m"}');
      assert.equal(again.resumed, true);
      assert.deepEqual(again.state.results, { a: { t: 1 }, b: { t: 2 } });
      const other = loadState<{ t: number }>(file, '{"model":"n"}');
      assert.equal(other.resumed, false);
      assert.deepEqual(other.state.results, {});
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version: 99 }));
      assert.equal(loadState(file, '{"model":"m"}').resumed, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
