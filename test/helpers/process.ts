/**
 * Child processes for the tests that run the `nereid` command itself: spawn one with its output
 * collected, wait for a line it prints (or for its exit), and kill what is left at the end.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

export interface Collected {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  /** Settles when the process has ended and its output is read: its exit code and signal. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];

/** Spawns `command args`, collecting stdout and stderr as text. */
export function spawnCollected(command: string, args: readonly string[], options: SpawnOptions = {}): Collected {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { output.stdout += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { output.stderr += c; });
  const closed = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, output, closed };
}

/** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
export function waitForLine({ child, output }: Pick<Collected, 'child' | 'output'>, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(output.stdout);
      if (m) {
        child.stdout!.off('data', check);
        child.off('exit', exited);
        resolve(m);
      }
    };
    const exited = (code: number | null) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${output.stdout}\n${output.stderr}`));
    child.stdout!.on('data', check);
    child.once('exit', exited);
    check();
  });
}

/** Kills every process spawned here that is still running (for an `after` hook). */
export function killStarted(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
