/**
 * Servers under test run in child processes, apart from the load generator: start one, wait
 * for the line that names its port, stop it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Child {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every port the pattern captured (`port` is the first). */
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/** Runs `node --import tsx ...args` (or plain `node ...args`) and resolves with the port printed on the line matching `pattern`. */
/**
 * CPU pinning (Linux taskset lists such as "1" or "0,1"): servers started from here run on
 * `server` CPUs, and this process (the load generator) on `client` CPUs. Without it, the load
 * generator and the server under test compete for the same cores, and each system's share of
 * them depends on how many threads it runs; with it, every system under test gets the same
 * cores to itself, as when the load comes from another machine.
 */
let serverCpus: string | null = null;
let clientCpus: string | null = null;

export function pinCpus(server: string | null, client: string | null): void {
  for (const [flag, list] of [['--server-cpus', server], ['--client-cpus', client]] as const) {
    if (list !== null && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list)) throw new RangeError(`${flag} must be a CPU list such as 1 or 0,2-3 (got '${list}')`);
  }
  serverCpus = server;
  clientCpus = client;
  // -a: every thread this process already has; threads started later inherit the main thread's set.
  if (client !== null) execFileSync('taskset', ['-a', '-p', '-c', client, String(process.pid)], { stdio: 'ignore' });
}

/** The pinning in force, for the record of a run. */
export function cpuPinning(): { server: string | null; client: string | null } {
  return { server: serverCpus, client: clientCpus };
}

export function startChild(args: string[], pattern: RegExp, env: Record<string, string> = {}, typescript = true, cwd = ROOT): Promise<Child> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, ...(typescript ? ['--import', 'tsx'] : []), ...args];
    const [command, ...rest] = serverCpus === null ? node : ['taskset', '-c', serverCpus, ...node];
    const child = spawn(command, rest, { cwd, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`));
    child.on('exit', onExit);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (!m) return;
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      child.off('exit', onExit);
      resolve({
        child,
        port: Number(m[1]),
        ports: m.slice(1).map(Number),
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.on('exit', () => done());
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

/**
 * Nereid on a repository, HTTP on a free loopback port (gRPC and metrics on others, unused
 * here), run as `npm start` runs it: compiled, from dist/ (build it first with ensureBuilt).
 */
export function startNereid(repo: string, extra: string[] = []): Promise<Child> {
  return startChild(['dist/main.js', '--model-repository', repo, '--http-address', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...extra], /Started HTTPService at [^:]+:(\d+)/, {}, false);
}

/**
 * Nereid as startNereid starts it, resolved once both front-ends are up: `ports` holds the
 * HTTP port, then the gRPC port (both on loopback).
 */
export function startNereidWithGrpc(repo: string, extra: string[] = []): Promise<Child> {
  return startChild(['dist/main.js', '--model-repository', repo, '--http-address', '127.0.0.1', '--http-port', '0', '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '0', ...extra], kBothFrontEnds, {}, false);
}

/** The lines that say both front-ends are up; captures the HTTP port, then the gRPC port. */
const kBothFrontEnds = /Started HTTPService at [^\n]*:(\d+)\n[\s\S]*Started GRPCInferenceService at [^\n]*:(\d+)\n/;

/**
 * Nereid from the sources of the checkout at `root` (through tsx: another checkout need not be
 * built), on free loopback ports, resolved once HTTP and gRPC are up (`ports`: HTTP, gRPC).
 * For the benches that compare a checkout before and after a change (soak, crash vectors).
 */
export function startNereidSources(root: string, extra: string[] = []): Promise<Child> {
  return startChild(['src/main.ts', '--http-address=127.0.0.1', '--grpc-address=127.0.0.1', '--http-port=0', '--grpc-port=0', '--metrics-port=0', ...extra], kBothFrontEnds, {}, true, root);
}

/** Compiles src/ into dist/ (a few seconds), so benches measure the code `npm start` runs. */
export function ensureBuilt(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

/** The naive server on one model file. */
export function startNaive(modelFile: string, threads?: number): Promise<Child> {
  return startChild(['bench/naive-server.ts', '--model', modelFile, '--port', '0', ...(threads ? ['--threads', String(threads)] : [])], /listening on [^:]+:(\d+)/);
}
