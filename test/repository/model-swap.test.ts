/**
 * Swaps that lose nothing: while clients send to `simple` without a version, a new version on
 * disk (poll mode) or an explicit reload with a config override switches the traffic over with
 * every request answered 200; a version that fails to load leaves the serving one in place and
 * polling goes on; an unloading model finishes what it accepted and refuses what comes after.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repositoryOf, startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, postJson } from '../helpers/http.ts';
import { makeRepository, slowConfig } from '../helpers/repo.ts';
import { sleep } from '../helpers/batching.ts';

const simpleBody = JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ],
});

/** Resolves once `check()` holds, asking again every 20 ms (a guard stops a hang, not a time asserted). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`never came true: ${check}`);
}

/** `clients` loops that infer on `simple` until stopped, counting statuses and versions served. */
function sendContinuously(url: string, clients: number): { stop(): Promise<void>; statuses: Map<number, number>; versions: Set<string>; count(): number } {
  const statuses = new Map<number, number>();
  const versions = new Set<string>();
  let running = true;
  let total = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const res = await postJson(`${url}/v2/models/simple/infer`, simpleBody);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 200) versions.add(jsonOf(res).model_version);
      total++;
    }
  });
  return {
    statuses,
    versions,
    count: () => total,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Copies version 1 of `simple` to a new version folder in one rename, so a poll never sees half a copy. */
function addVersion(repo: string, version: number, corrupt = false): void {
  const staging = path.join(repo, `.staging-${version}`);
  rmSync(staging, { recursive: true, force: true });
  if (corrupt) {
    mkdirSync(staging);
    writeFileSync(path.join(staging, 'model.onnx'), Buffer.from('not an onnx model'));
  } else {
    cpSync(path.join(repo, 'simple', '1'), staging, { recursive: true });
  }
  renameSync(staging, path.join(repo, 'simple', String(version)));
}

describe('poll mode swaps', () => {
  let ts: TestServer;
  let repo: string;
  const index = async () => jsonOf(await postJson(`${ts.url}/v2/repository/index`, {})) as { name: string; version?: string; state?: string; reason?: string }[];
  const state = async (version: string) => (await index()).find((r) => r.name === 'simple' && r.version === version);
  before(async () => {
    repo = repositoryOf('simple', 'simple_identity');
    ts = await startTestServer([`--model-repository=${repo}`, '--model-control-mode=poll', '--repository-poll-secs=1']);
  });
  after(() => ts?.close());

  test('a model removed from the repository is unloaded and leaves the index', async () => {
    assert.equal((await fetch(`${ts.url}/v2/models/simple_identity/ready`)).status, 200);
    rmSync(path.join(repo, 'simple_identity'), { recursive: true, force: true });
    await eventually(async () => !(await index()).some((r) => r.name === 'simple_identity'));
    assert.notEqual((await fetch(`${ts.url}/v2/models/simple_identity/ready`)).status, 200);
    assert.equal(ts.server.registry.find('simple_identity'), undefined);
    assert.equal((await fetch(`${ts.url}/v2/health/ready`)).status, 200);
  });

  test('a new version on disk takes the traffic with no request lost', async () => {
    const load = sendContinuously(ts.url, 4);
    await eventually(async () => load.count() > 20);
    addVersion(repo, 2);
    await eventually(async () => load.versions.has('2'));
    await eventually(async () => (await state('1'))?.reason === 'unloaded');
    const sentAfter = load.count();
    await eventually(async () => load.count() > sentAfter + 20);
    await load.stop();
    assert.deepEqual([...load.statuses.keys()], [200], JSON.stringify([...load.statuses]));
    assert.deepEqual([...load.versions].sort(), ['1', '2']);
    assert.deepEqual(await state('2'), { name: 'simple', version: '2', state: 'READY', reason: '' });
    assert.deepEqual(await state('1'), { name: 'simple', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' });
    // Strict readiness holds through a swap: an unloaded old version does not make the server unready.
    assert.equal((await fetch(`${ts.url}/v2/health/ready`)).status, 200);
  });

  test('a version that fails to load leaves the serving one, and polling goes on', async () => {
    const load = sendContinuously(ts.url, 2);
    addVersion(repo, 3, true);
    await eventually(async () => /reload failed/.test((await state('2'))?.reason ?? ''));
    // The model file of version 3 cannot be read: the config cannot be completed from it.
    const serving = await state('2');
    assert.equal(serving!.state, 'READY');
    assert.match(serving!.reason!, /^reload failed, serving the previous versions: cannot read .*\/3\/model\.onnx/);
    assert.equal((await index()).some((r) => r.name === 'simple' && r.version === '3' && r.state === 'READY'), false);
    assert.equal((await fetch(`${ts.url}/v2/health/ready`)).status, 200);
    // The next change on disk is picked up: a good version 4.
    addVersion(repo, 4);
    await eventually(async () => load.versions.has('4'));
    await load.stop();
    assert.deepEqual([...load.statuses.keys()], [200], JSON.stringify([...load.statuses]));
    assert.ok(!load.versions.has('3'));
    assert.deepEqual(await state('4'), { name: 'simple', version: '4', state: 'READY', reason: '' });
  });
});

describe('poll mode with every version served', () => {
  let ts: TestServer;
  let repo: string;
  before(async () => {
    repo = repositoryOf('simple');
    const config = path.join(repo, 'simple', 'config.pbtxt');
    writeFileSync(config, `${readFileSync(config, 'utf8')}version_policy: { all { } }\n`);
    ts = await startTestServer([`--model-repository=${repo}`, '--model-control-mode=poll', '--repository-poll-secs=1']);
  });
  after(() => ts?.close());

  test('a new version loads beside the serving one, which keeps its instances', async () => {
    const first = ts.server.registry.get('simple').versions.get(1)!;
    addVersion(repo, 2);
    await eventually(async () => ts.server.registry.isReady('simple', '2'));
    const model = ts.server.registry.get('simple');
    assert.equal(model.versions.get(1), first);
    assert.equal(first.state, 'READY');
    const res = await postJson(`${ts.url}/v2/models/simple/versions/1/infer`, simpleBody);
    assert.equal(res.status, 200);
    assert.equal(jsonOf(res).model_version, '1');
  });
});

describe('explicit reloads and unloads', () => {
  let ts: TestServer;
  let remove: () => void;
  before(async () => {
    const repo = makeRepository({ slow: { from: 'slow', config: slowConfig('') } });
    remove = repo.remove;
    cpSync(path.join(repositoryOf('simple'), 'simple'), path.join(repo.dir, 'simple'), { recursive: true });
    ts = await startTestServer([`--model-repository=${repo.dir}`, '--model-control-mode=explicit', '--load-model=*']);
  });
  after(async () => {
    await ts?.close();
    remove?.();
  });

  test('a reload with a config override switches with no request lost', async () => {
    const load = sendContinuously(ts.url, 4);
    await eventually(async () => load.count() > 20);
    const res = await postJson(`${ts.url}/v2/repository/models/simple/load`, { parameters: { config: '{"max_batch_size": 4}' } });
    assert.equal(res.status, 200, res.body.toString());
    const sentAfter = load.count();
    await eventually(async () => load.count() > sentAfter + 20);
    await load.stop();
    assert.deepEqual([...load.statuses.keys()], [200], JSON.stringify([...load.statuses]));
    const config = await (await fetch(`${ts.url}/v2/models/simple/config`)).json() as { max_batch_size: number };
    assert.equal(config.max_batch_size, 4);
  });

  test('a reload whose new version fails (its warmup) keeps the serving version, and says why', async () => {
    const serving = ts.server.registry.get('simple').versions.get(1)!;
    const warmup = { name: 'half', batch_size: 1, inputs: { INPUT0: { data_type: 'TYPE_INT32', dims: [16], zero_data: true } } };
    const res = await postJson(`${ts.url}/v2/repository/models/simple/load`, { parameters: { config: JSON.stringify({ max_batch_size: 8, model_warmup: [warmup] }) } });
    assert.equal(res.status, 400);
    assert.equal(jsonOf(res).error, "load failed for model 'simple': version 1 is at UNAVAILABLE state: failed to load version 1: model_warmup 'half': no data for input 'INPUT1';");
    assert.equal(ts.server.registry.get('simple').versions.get(1), serving);
    assert.equal(serving.state, 'READY');
    assert.equal((await postJson(`${ts.url}/v2/models/simple/infer`, simpleBody)).status, 200);
    const row = (jsonOf(await postJson(`${ts.url}/v2/repository/index`, {})) as { name: string; state: string; reason: string }[]).find((r) => r.name === 'simple')!;
    assert.equal(row.state, 'READY');
    assert.match(row.reason, /^reload failed, serving the previous versions: version 1 is at UNAVAILABLE state/);
    assert.equal((await fetch(`${ts.url}/v2/health/ready`)).status, 200);
  });

  test('an unloading model finishes the requests it accepted and refuses new ones with 503', async () => {
    const body = { inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [2] }] };
    const accepted = postJson(`${ts.url}/v2/models/slow/infer`, body);
    const scheduler = ts.server.registry.get('slow').versions.get(1)!.scheduler!;
    await eventually(async () => scheduler.inflightCount() > 0);
    const unloading = postJson(`${ts.url}/v2/repository/models/slow/unload`, {});
    await eventually(async () => ts.server.registry.get('slow').versions.get(1)!.state !== 'READY');
    const refused = await postJson(`${ts.url}/v2/models/slow/infer`, body);
    assert.equal(refused.status, 503);
    assert.match(jsonOf(refused).error, /'slow' has no available versions/);
    assert.equal((await accepted).status, 200);
    assert.equal((await unloading).status, 200);
    assert.equal(ts.server.registry.get('slow').versions.get(1)!.reason, 'unloaded');
  });
});
