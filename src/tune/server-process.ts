/**
 * One Nereid server per candidate, in a child process of its own (apart from the load it is
 * measured with), on a throw-away repository holding the model and the candidate's config.
 * The child is the same program as the `nereid` command: dist/main.js from the installed
 * package, or src/main.ts through tsx in a clone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** The package's root (src/tune/ or dist/tune/ are two folders down). */
const PACKAGE_ROOT = path.resolve(HERE, '..', '..');

/** Links (or, across file systems, copies) every file of `from` into `to`, except a top-level config.pbtxt. */
function linkTree(from: string, to: string, top = true): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (top && name === 'config.pbtxt') continue;
    const src = path.join(from, name);
    const dst = path.join(to, name);
    if (statSync(src).isDirectory()) linkTree(src, dst, false);
    else {
      try {
        linkSync(src, dst); // the bench MLP is 100 MB: a link costs nothing, a copy per candidate would
      } catch {
        copyFileSync(src, dst);
      }
    }
  }
}

/** A repository holding only `model`, with `config` as its config.pbtxt (null: the model's own, or none). */
export function candidateRepository(modelDir: string, model: string, config: string | null): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-tune-'));
  const target = path.join(dir, model);
  linkTree(modelDir, target);
  const own = path.join(modelDir, 'config.pbtxt');
  if (config !== null) writeFileSync(path.join(target, 'config.pbtxt'), config);
  else {
    try {
      copyFileSync(own, path.join(target, 'config.pbtxt'));
    } catch {
      // No config of its own: the server completes it from the model file, as for the user.
    }
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Servers started and not yet stopped, so an interrupted run can stop them (stopRunningServers). */
const running = new Set<ChildProcess>();

/** Stops every server this process started and has not stopped (on SIGINT/SIGTERM). */
export function stopRunningServers(): void {
  for (const child of running) child.kill('SIGTERM');
}

export interface RunningServer {
  readonly httpUrl: string;
  readonly pid: number;
  /** CPU seconds (user + system, all threads) the server has used so far; NaN where /proc is missing. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Linux's USER_HZ: the unit of /proc/<pid>/stat's times, 100 on every architecture Node supports. */
const CLOCK_TICKS = 100;

function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ')'; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * Starts the server on `repo`, waits until `model` is ready; rejects with the server's last
 * output when it exits first (a candidate whose config does not load) or after `timeoutMs`.
 */
export async function startServerProcess(repo: string, model: string, timeoutMs = 180_000, extraArgs: readonly string[] = []): Promise<RunningServer> {
  const main = path.join(HERE, '..', FROM_SOURCE ? 'main.ts' : 'main.js');
  const args = [...(FROM_SOURCE ? ['--import', 'tsx'] : []), main, '--model-repository', repo, '--http-address', '127.0.0.1', '--http-port', '0', '--allow-grpc=false', '--allow-metrics=false', ...extraArgs];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.on('exit', (code) => {
    exited = code;
    resolve();
  }));
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exit.then(() => true), sleep(15_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exit;
      }
    }
  };
  const deadline = Date.now() + timeoutMs;
  let httpUrl: string | null = null;
  while (Date.now() < deadline && exited === undefined) {
    if (httpUrl === null) {
      const m = /Started HTTPService at [^\n]*:(\d+)/.exec(out);
      if (m) httpUrl = `http://127.0.0.1:${m[1]}`;
    }
    if (httpUrl !== null) {
      const ready = await fetch(`${httpUrl}/v2/models/${encodeURIComponent(model)}/ready`).then((r) => r.status === 200, () => false);
      if (ready) return { httpUrl, pid: child.pid!, cpuSeconds: () => processCpuSeconds(child.pid!), stop };
    }
    await sleep(100);
  }
  await stop();
  const tail = out.trim().split('\n').slice(-5).join('\n');
  throw new Error(exited !== undefined ? `the server exited (${exited}) before '${model}' was ready:\n${tail}` : `'${model}' was not ready within ${timeoutMs / 1000} s:\n${tail}`);
}
