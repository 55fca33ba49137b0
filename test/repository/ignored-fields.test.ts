/**
 * A config field that Nereid parses but does not act on is never ignored silently: the load
 * names every such field of a model in one warning, and the model still loads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRepoServer, type RepoServer } from '../helpers/batching.ts';

const simple = (extra: string) => `platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] allow_ragged_batch: true }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
${extra}`;

describe('config fields with no effect', () => {
  let s: RepoServer;
  let dir: string;
  let file: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-inert-'));
    file = path.join(dir, 'server.log');
    s = await startRepoServer({
      inert: { from: 'simple', config: simple('metric_tags { key: "team" value: "a" }') },
      plain: { from: 'simple', config: simple('').replace(' allow_ragged_batch: true', '') },
    }, [`--log-file=${file}`, '--log-format=json']);
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('are named in one warning per model at load, and the model loads', async () => {
    // The log file is written synchronously, so the load's lines are there once the server is up.
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    const warnings = lines.filter((l) => l.level === 40 && /config fields with no effect/.test(l.msg));
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.equal(warnings[0].model, 'inert');
    assert.deepEqual(warnings[0].fields, ['metric_tags', 'input[INPUT0].allow_ragged_batch']);
    assert.equal(warnings[0].msg, "model 'inert': config fields with no effect in Nereid, ignored: metric_tags, input[INPUT0].allow_ragged_batch");
    assert.equal(s.server.registry.isReady('inert'), true);
  });
});
