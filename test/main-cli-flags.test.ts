/**
 * The `nereid` command with the flags Triton users pass out of habit, run as a process: --version,
 * --exit-on-error, --strict-readiness, --id, --model-load-thread-count, --backend-config, flags
 * without an effect here (one warning), a model file not named model.onnx, and ports in use.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { EXAMPLES, FIXTURES, ROOT, sequence } from './helpers/server.ts';
import { killStarted, spawnCollected, waitForLine, type Collected } from './helpers/process.ts';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const dirs: string[] = [];
const LOCAL = ['--http-address', '127.0.0.1', '--grpc-address', '127.0.0.1', '--metrics-address', '127.0.0.1'];

/** `node --import tsx src/main.ts ...args` in the repository root. */
function nereid(args: string[]): Collected {
  return spawnCollected(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT });
}

/**
 * A repository: `simple` (loads), `renamed` (simple's file saved as resnet.onnx, config without
 * default_model_filename: fails), `named` (the same file with default_model_filename naming it:
 * loads), `bare` (simple's file without config.pbtxt: auto-completed).
 */
function repository(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nereid-flags-'));
  dirs.push(dir);
  cpSync(path.join(EXAMPLES, 'simple'), path.join(dir, 'simple'), { recursive: true });
  const config = readFileSync(path.join(EXAMPLES, 'simple', 'config.pbtxt'), 'utf8');
  for (const name of ['renamed', 'named']) {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    cpSync(path.join(EXAMPLES, 'simple', '1', 'model.onnx'), path.join(dir, name, '1', 'resnet.onnx'));
    const own = config.replace('name: "simple"', `name: "${name}"`);
    writeFileSync(path.join(dir, name, 'config.pbtxt'), name === 'named' ? `default_model_filename: "resnet.onnx"\n${own}` : own);
  }
  mkdirSync(path.join(dir, 'bare', '1'), { recursive: true });
  cpSync(path.join(EXAMPLES, 'simple', '1', 'model.onnx'), path.join(dir, 'bare', '1', 'model.onnx'));
  return dir;
}

function emptyRepository(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nereid-empty-'));
  dirs.push(dir);
  return dir;
}

after(() => {
  killStarted();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function stop(run: Collected): Promise<void> {
  run.child.kill('SIGTERM');
  assert.deepEqual(await run.closed, { code: 0, signal: null }, run.output.stderr);
}

describe("the nereid command with Triton's habits", () => {
  test('--version prints the package version and exits 0', { timeout: 60_000 }, async () => {
    const run = nereid(['--version']);
    assert.deepEqual(await run.closed, { code: 0, signal: null });
    assert.equal(run.output.stdout, `${VERSION}\n`);
    assert.equal(run.output.stderr, '');
  });

  test('--exit-on-error (the default) exits 1 when a model fails to load, naming default_model_filename', { timeout: 60_000 }, async () => {
    const run = nereid(['--model-repository', repository(), '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...LOCAL]);
    assert.deepEqual(await run.closed, { code: 1, signal: null });
    assert.match(run.output.stdout, /model 'renamed' failed to load: version 1 has no model file 'model\.onnx' but has 'resnet\.onnx': rename it to 'model\.onnx', or set default_model_filename: "resnet\.onnx" in config\.pbtxt/);
    assert.equal(run.output.stderr, 'nereid: failed to load all models (1 of 4 failed; --exit-on-error=false serves the others)\n');
    assert.doesNotMatch(run.output.stdout, /Started HTTPService/);
  });

  test('--exit-on-error=false serves the models that loaded and a repository that cannot be read is one line; the other flags take effect', { timeout: 60_000 }, async () => {
    const run = nereid(['--model-repository', repository(), '--model-repository', '/no/such/repository', '--exit-on-error=false',
      '--strict-readiness=false', '--id=replica-7', '--model-load-thread-count=1', '--backend-config=default-max-batch-size=2',
      '--backend-config=onnxruntime,intra_op_thread_count=1', '--http-thread-count', '4', '--pinned-memory-pool-byte-size=0',
      '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...LOCAL]);
    const [, port] = await waitForLine(run, /Started HTTPService at 127\.0\.0\.1:(\d+)/);
    const url = `http://127.0.0.1:${port}`;
    // One warning line, through the server's logger like every other line.
    assert.match(run.output.stdout, /^W.* warning: ignoring Triton flags without an effect in Nereid: --http-thread-count, --pinned-memory-pool-byte-size \(docs\/install\.md lists why\)$/m);
    assert.equal(run.output.stderr, '');
    assert.match(run.output.stdout, /\] failed to read model repository '\/no\/such\/repository': ENOENT/);
    assert.match(run.output.stdout, /model 'renamed' failed to load: .*default_model_filename/);
    // default_model_filename in config.pbtxt is honoured.
    assert.match(run.output.stdout, /model 'named' version 1: READY/);
    // --strict-readiness=false: ready although a model failed.
    assert.equal((await fetch(`${url}/v2/health/ready`)).status, 200);
    assert.equal((await (await fetch(`${url}/v2`)).json() as { name: string }).name, 'replica-7');
    // --backend-config=default-max-batch-size=2: what auto-complete gives a model that can batch.
    assert.equal((await (await fetch(`${url}/v2/models/bare/config`)).json() as { max_batch_size: number }).max_batch_size, 2);
    const res = await fetch(`${url}/v2/models/named/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: sequence(1) })) }),
    });
    assert.equal(res.status, 200);
    await stop(run);
  });

  test('--strict-readiness (the default) is not ready while a model is unavailable', { timeout: 60_000 }, async () => {
    const run = nereid(['--model-repository', repository(), '--exit-on-error=false', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...LOCAL]);
    const [, port] = await waitForLine(run, /Started HTTPService at 127\.0\.0\.1:(\d+)/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status, 400);
    assert.equal((await fetch(`http://127.0.0.1:${port}/v2/health/live`)).status, 200);
    await stop(run);
  });

  for (const [service, flag] of [['HTTP service', '--http-port'], ['GRPC service', '--grpc-port'], ['metrics service', '--metrics-port']] as const) {
    test(`a port in use stops the start with a line naming the ${service} and the port, exit 1`, { timeout: 60_000 }, async () => {
      const taken: Server = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as { port: number }).port;
      try {
        const ports = { '--http-port': '0', '--grpc-port': '0', '--metrics-port': '0', [flag]: String(port) };
        const run = nereid(['--model-repository', emptyRepository(), ...Object.entries(ports).flat(), ...LOCAL]);
        assert.deepEqual(await run.closed, { code: 1, signal: null });
        // grpc-js prints a line of its own first ("E No address added…"): ours is the last, and the only one of ours.
        assert.ok(run.output.stderr.endsWith(`\nnereid: failed to start ${service}: port ${port} on 127.0.0.1 is already in use\n`) || run.output.stderr === `nereid: failed to start ${service}: port ${port} on 127.0.0.1 is already in use\n`, run.output.stderr);
        assert.equal(run.output.stderr.match(/^nereid: /gm)?.length, 1);
      } finally {
        taken.close();
      }
    });
  }
});
