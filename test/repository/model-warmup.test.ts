/**
 * model_warmup: zero, random and file data, batch size and count run before the version is
 * READY, with the time in the log and nothing in the statistics (as Triton); a sample that
 * cannot run fails the load with its reason, and a data file outside warmup/ is refused.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeRepository } from '../helpers/repo.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postJson } from '../helpers/http.ts';

const simple = (warmup: string) => `platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
${warmup}`;

const sample = (name: string, batch: number, count: number, in0: string, in1 = 'zero_data: true') => `model_warmup [ { name: "${name}" batch_size: ${batch} count: ${count}
  inputs { key: "INPUT0" value: { data_type: TYPE_INT32 dims: [ 16 ] ${in0} } }
  inputs { key: "INPUT1" value: { data_type: TYPE_INT32 dims: [ 16 ] ${in1} } } } ]`;

describe('model_warmup', () => {
  let ts: TestServer;
  let logDir: string;
  let remove: () => void;
  const lines = () => readFileSync(path.join(logDir, 'server.log'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const version = (model: string) => ts.server.registry.get(model).versions.get(1)!;

  before(async () => {
    const repo = makeRepository({
      zeros: { from: 'simple', config: simple(sample('zeros', 2, 3, 'zero_data: true')) },
      random: { from: 'simple', config: simple(sample('random', 1, 0, 'random_data: true', 'random_data: true')) },
      from_file: { from: 'simple', config: simple(sample('file', 4, 1, 'input_data_file: "in0.bin"')) },
      short_file: { from: 'simple', config: simple(sample('short', 1, 1, 'input_data_file: "short.bin"')) },
      escaping: { from: 'simple', config: simple(sample('escape', 1, 1, 'input_data_file: "../config.pbtxt"')) },
      too_big: { from: 'simple', config: simple(sample('big', 9, 1, 'zero_data: true')) },
      missing_input: { from: 'simple', config: simple('model_warmup [ { name: "half" batch_size: 1 inputs { key: "INPUT0" value: { data_type: TYPE_INT32 dims: [ 16 ] zero_data: true } } } ]') },
      skipped: { from: 'simple', config: simple('model_warmup [ { name: "none" batch_size: 0 } ]') },
    });
    remove = repo.remove;
    const in0 = Buffer.alloc(64);
    for (let i = 0; i < 16; i++) in0.writeInt32LE(i * 10, i * 4);
    for (const [model, file, bytes] of [['from_file', 'in0.bin', in0], ['short_file', 'short.bin', Buffer.alloc(10)]] as const) {
      mkdirSync(path.join(repo.dir, model, 'warmup'));
      writeFileSync(path.join(repo.dir, model, 'warmup', file), bytes);
    }
    logDir = mkdtempSync(path.join(os.tmpdir(), 'nereid-warmup-'));
    ts = await startTestServer([`--model-repository=${repo.dir}`, '--exit-on-error=false', '--strict-readiness=false', `--log-file=${path.join(logDir, 'server.log')}`, '--log-format=json']);
  });
  after(async () => {
    await ts?.close();
    remove?.();
    rmSync(logDir, { recursive: true, force: true });
  });

  test('runs each sample count times (0: once) before READY, and logs its time', () => {
    const { samples, runs } = version('zeros').warmup!;
    assert.deepEqual({ samples, runs }, { samples: 1, runs: 3 });
    assert.equal(version('random').warmup!.runs, 1);
    assert.equal(version('from_file').warmup!.runs, 1);
    for (const model of ['zeros', 'random', 'from_file']) assert.equal(version(model).state, 'READY', model);
    const logged = lines().filter((l) => l.warmupMs !== undefined);
    const zeros = logged.find((l) => l.model === 'zeros');
    assert.ok(zeros, JSON.stringify(logged));
    assert.match(zeros.msg, /^model 'zeros' version 1: warmup of 1 samples \(3 runs\) took [0-9.]+ ms$/);
    assert.equal(zeros.runs, 3);
  });

  test('leaves the statistics untouched: only client requests count', async () => {
    const stats = await (await fetch(`${ts.url}/v2/models/zeros/stats`)).json() as { model_stats: { inference_count: number; execution_count: number }[] };
    assert.equal(stats.model_stats[0].inference_count, 0);
    assert.equal(stats.model_stats[0].execution_count, 0);
    const body = { inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) })) };
    assert.equal((await postJson(`${ts.url}/v2/models/zeros/infer`, body)).status, 200);
    const after = await (await fetch(`${ts.url}/v2/models/zeros/stats`)).json() as { model_stats: { inference_count: number }[] };
    assert.equal(after.model_stats[0].inference_count, 1);
  });

  test('a sample of batch size 0 is skipped, as in Triton', () => {
    assert.equal(version('skipped').state, 'READY');
    assert.deepEqual({ samples: version('skipped').warmup!.samples, runs: version('skipped').warmup!.runs }, { samples: 0, runs: 0 });
  });

  const failures: [string, RegExp][] = [
    ['short_file', /^failed to load version 1: model_warmup 'short': input 'INPUT0' needs 64 bytes, but the file 'short\.bin' has only 10$/],
    ['escaping', /^failed to load version 1: model_warmup 'escape': input_data_file '\.\.\/config\.pbtxt' is outside the model's warmup folder$/],
    ['too_big', /^failed to load version 1: model_warmup 'big': batch_size 9 is more than the model's max_batch_size 8$/],
    ['missing_input', /^failed to load version 1: model_warmup 'half': no data for input 'INPUT1'$/],
  ];
  for (const [model, reason] of failures) {
    test(`a sample that cannot run fails the load (${model})`, () => {
      assert.equal(version(model).state, 'UNAVAILABLE');
      assert.match(version(model).reason, reason);
    });
  }
});
