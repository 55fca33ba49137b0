/**
 * The `nereid` command as a child process, for tests of what only the real process does
 * (signals, exit codes, its output).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { ROOT } from './server.ts';

const children: ChildProcess[] = [];

after(() => {
  // Only if a test failed half-way: never leave a server running.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export interface NereidOutput {
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx src/main.ts ...args` in the repository root, collecting its output. */
export function nereid(args: string[]): { child: ChildProcess; output: NereidOutput } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { output.stdout += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { output.stderr += c; });
  return { child, output };
}

/** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
export function waitFor(child: ChildProcess, output: NereidOutput, pattern: RegExp): Promise<RegExpMatchArray> {
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

/** Starts nereid on loopback ports chosen by the system; resolves with its HTTP and gRPC ports. */
export async function startNereid(args: string[]): Promise<{ child: ChildProcess; output: NereidOutput; httpPort: number; grpcPort: number; metricsPort: number }> {
  const { child, output } = nereid(['--http-address=127.0.0.1', '--http-port=0', '--grpc-address=127.0.0.1', '--grpc-port=0', '--metrics-port=0', ...args]);
  const [, metrics] = await waitFor(child, output, /Started Metrics Service at [^\n]*:(\d+)/);
  const [, http] = await waitFor(child, output, /Started HTTPService at 127\.0\.0\.1:(\d+)/);
  const [, grpc] = await waitFor(child, output, /Started GRPCInferenceService at 127\.0\.0\.1:(\d+)/);
  return { child, output, httpPort: Number(http), grpcPort: Number(grpc), metricsPort: Number(metrics) };
}
