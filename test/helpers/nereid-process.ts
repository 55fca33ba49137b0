/**
 * The `nereid` command as a child process, for tests of what only the real process does
 * (signals, exit codes, its output).
 */
import type { ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { killStarted, spawnCollected, waitForLine } from './process.ts';
import { ROOT } from './server.ts';

// Only if a test failed half-way: never leave a server running.
after(killStarted);

export interface NereidOutput {
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx src/main.ts ...args` in the repository root, collecting its output. */
export function nereid(args: string[]): { child: ChildProcess; output: NereidOutput } {
  const { child, output } = spawnCollected(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT });
  return { child, output };
}

/** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
export function waitFor(child: ChildProcess, output: NereidOutput, pattern: RegExp): Promise<RegExpMatchArray> {
  return waitForLine({ child, output }, pattern);
}

/** Starts nereid on loopback ports chosen by the system; resolves with its HTTP and gRPC ports. */
export async function startNereid(args: string[]): Promise<{ child: ChildProcess; output: NereidOutput; httpPort: number; grpcPort: number; metricsPort: number }> {
  const { child, output } = nereid(['--http-address=127.0.0.1', '--http-port=0', '--grpc-address=127.0.0.1', '--grpc-port=0', '--metrics-port=0', ...args]);
  const [, metrics] = await waitFor(child, output, /Started Metrics Service at [^\n]*:(\d+)/);
  const [, http] = await waitFor(child, output, /Started HTTPService at 127\.0\.0\.1:(\d+)/);
  const [, grpc] = await waitFor(child, output, /Started GRPCInferenceService at 127\.0\.0\.1:(\d+)/);
  return { child, output, httpPort: Number(http), grpcPort: Number(grpc), metricsPort: Number(metrics) };
}
