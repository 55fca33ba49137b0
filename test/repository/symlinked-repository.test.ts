/**
 * A repository whose model and version folders are symbolic links (a Kubernetes ConfigMap
 * mount, or one assembled with `ln -s`) is read as Triton reads it: through the links.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXAMPLES, sequence, startTestServer, type TestServer } from '../helpers/server.ts';

describe('a repository of symbolic links', () => {
  let s: TestServer;
  let root: string;
  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'nereid-links-'));
    const repo = path.join(root, 'repo');
    mkdirSync(repo);
    // The model folder is a link; so is the version folder of the second model.
    symlinkSync(path.join(EXAMPLES, 'simple'), path.join(repo, 'simple'));
    const store = path.join(root, 'store');
    cpSync(path.join(EXAMPLES, 'simple', '1'), path.join(store, 'v1'), { recursive: true });
    mkdirSync(path.join(repo, 'adder2'));
    symlinkSync(path.join(store, 'v1'), path.join(repo, 'adder2', '1'));
    symlinkSync(path.join(root, 'nowhere'), path.join(repo, 'dangling'));
    s = await startTestServer([`--model-repository=${repo}`]);
  });
  after(async () => {
    await s?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('loads the linked models and versions, skips a dangling link, and serves them', async () => {
    const index = await (await fetch(`${s.url}/v2/repository/index`, { method: 'POST' })).json() as { name: string; state: string }[];
    assert.deepEqual(index.map((m) => [m.name, m.state]), [['adder2', 'READY'], ['simple', 'READY']]);
    for (const model of ['simple', 'adder2']) {
      const res = await fetch(`${s.url}/v2/models/${model}/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: sequence(1) })) }),
      });
      assert.equal(res.status, 200, model);
      const body = await res.json() as { outputs: { name: string; data: number[] }[] };
      assert.deepEqual(body.outputs.find((o) => o.name === 'OUTPUT0')!.data, sequence(1).map((v) => 2 * v));
    }
  });
});
