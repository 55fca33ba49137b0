/**
 * The package as a user meets it: `npm pack`, install the tarball into an empty folder with the
 * documented variable (docs/install.md), run the installed `nereid` command on the example
 * repository and infer over HTTP, then use `nereid/client` and `nereid` from a consumer ESM
 * script and type-check a TypeScript consumer against the shipped declarations. The install
 * takes its packages from npm's cache when they are there (--prefer-offline); the registry is
 * reachable where it is not.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ROOT, sequence } from '../helpers/server.ts';
import { killStarted, spawnCollected, waitForLine } from '../helpers/process.ts';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// The npm_* variables of an enclosing `npm test` would leak its settings into these npm calls.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
env.ONNXRUNTIME_NODE_INSTALL = 'skip';

let work = '';
let consumer = '';
let installed = '';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'nereid-pack-'));
  // `npm pack` runs `prepare`, which builds dist/ when the sources changed.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  consumer = path.join(work, 'consumer');
  await run('mkdir', [consumer]);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', path.join(work, filename)], { cwd: consumer, env, maxBuffer: 16 * 1024 * 1024 });
  installed = path.join(consumer, 'node_modules', 'nereid');
});

after(() => {
  killStarted();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package, installed into an empty folder', () => {
  test('ships compiled JavaScript and declarations only, and needs no TypeScript loader', () => {
    assert.ok(existsSync(path.join(installed, 'dist', 'main.js')));
    assert.ok(existsSync(path.join(installed, 'dist', 'client', 'index.d.ts')));
    assert.ok(existsSync(path.join(installed, 'model_repository', 'simple', '1', 'model.onnx')));
    const shipped = files(installed).map((f) => path.relative(installed, f));
    assert.deepEqual(shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), []);
    assert.deepEqual(shipped.filter((f) => /^(src|test|tools|bench)\//.test(f) || f.includes('tsbuildinfo')), []);
    // tsx is a development dependency: a production install does not have it.
    assert.equal(existsSync(path.join(consumer, 'node_modules', 'tsx')), false);
    const bin = readFileSync(path.join(installed, 'bin', 'nereid.js'), 'utf8');
    assert.doesNotMatch(bin, /tsx/);
  });

  test('`npx nereid --version` prints the package version and exits 0', async () => {
    const { stdout } = await run('npx', ['--no-install', 'nereid', '--version'], { cwd: consumer, env });
    assert.equal(stdout, `${VERSION}\n`);
  });

  test('the installed `nereid` serves the example repository, and a consumer infers through nereid/client', { timeout: 60_000 }, async () => {
    // The link npx runs, started directly: npx would not pass SIGTERM on to the server.
    const server = spawnCollected(path.join(consumer, 'node_modules', '.bin', 'nereid'), ['--model-repository', path.join(installed, 'model_repository'),
      '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--http-address', '127.0.0.1', '--grpc-address', '127.0.0.1'], { cwd: consumer, env });
    const [, port] = await waitForLine(server, /Started HTTPService at 127\.0\.0\.1:(\d+)/);
    const [, grpcPort] = await waitForLine(server, /Started GRPCInferenceService at 127\.0\.0\.1:(\d+)/);
    assert.doesNotMatch(server.output.stdout, /UNAVAILABLE/);

    const res = await fetch(`http://127.0.0.1:${port}/v2/models/simple/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: sequence(1) },
      ] }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json() as { outputs: { data: number[] }[] }).outputs[0].data, sequence(1).map((v) => v * 2));

    writeFileSync(path.join(consumer, 'consumer.mjs'), `
import { HttpClient, GrpcClient } from 'nereid/client';
import { startServer, parseCliOptions, VERSION } from 'nereid';
const [httpPort, grpcPort] = process.argv.slice(2);
const inputs = [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
];
const http = await new HttpClient('http://127.0.0.1:' + httpPort).infer('simple', inputs);
const grpc = new GrpcClient('127.0.0.1:' + grpcPort);
const viaGrpc = await grpc.infer('simple', inputs);
grpc.close();
console.log(JSON.stringify({
  version: VERSION,
  startServer: typeof startServer,
  httpPort: parseCliOptions(['--http-port', '1234']).httpPort,
  http: Array.from(http.outputs.find((o) => o.name === 'OUTPUT1').data),
  grpc: Array.from(viaGrpc.outputs.find((o) => o.name === 'OUTPUT0').data),
}));
`);
    const { stdout } = await run(process.execPath, ['consumer.mjs', port, grpcPort], { cwd: consumer, env });
    assert.deepEqual(JSON.parse(stdout), {
      version: VERSION,
      startServer: 'function',
      httpPort: 1234,
      http: Array.from({ length: 16 }, (_, i) => i - 1),
      grpc: Array.from({ length: 16 }, (_, i) => i + 1),
    });

    server.child.kill('SIGTERM');
    assert.deepEqual(await server.closed, { code: 0, signal: null });
  });

  test('`nereid tune` runs from the installed package: the tuner starts the compiled server per configuration', { timeout: 90_000 }, async () => {
    const out = path.join(work, 'tune-out');
    const { stdout } = await run(path.join(consumer, 'node_modules', '.bin', 'nereid'), ['tune', '--model-repository', path.join(installed, 'model_repository'), '-m', 'simple', '--out', out,
      '--quick', '--max-candidates', '2', '--concurrency-range', '2', '--measurement-interval', '150', '--max-trials', '3'], { cwd: consumer, env, maxBuffer: 8 * 1024 * 1024 });
    assert.match(stdout, /\[2\/≤2\] cpux/);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { recommended: string; results: { key: string; config: string }[] };
    assert.equal(results.results.length, 2);
    assert.equal(readFileSync(path.join(out, 'config.pbtxt'), 'utf8'), results.results.find((r) => r.key === results.recommended)!.config);
  });

  test('a TypeScript consumer type-checks against the shipped declarations', { timeout: 60_000 }, async () => {
    writeFileSync(path.join(consumer, 'consumer.ts'), `
import { HttpClient, GrpcClient, SharedMemoryRegion, type InferResult } from 'nereid/client';
import { parseCliOptions, startServer, type RunningServer, type ServerOptions } from 'nereid';
const options: ServerOptions = parseCliOptions(['--http-port', '0']);
export const server: Promise<RunningServer> = startServer(options);
export const result: Promise<InferResult> = new HttpClient('http://127.0.0.1:8000').infer('simple', []);
export { GrpcClient, SharedMemoryRegion };
`);
    writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
      files: ['consumer.ts'],
    }));
    // The repository's own TypeScript; no skipLibCheck, so the shipped .d.ts files are checked too.
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', '.'], { cwd: consumer, env }).catch((err: { stdout: string }) => ({ stdout: `tsc failed:\n${err.stdout}` }));
    assert.equal(stdout, '');
  });
});
