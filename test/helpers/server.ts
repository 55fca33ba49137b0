/**
 * Starts a real Nereid server in this process on a free loopback port, for end-to-end tests.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliOptions } from '../../src/cli/cli-options.ts';
import { startServer, type RunningServer } from '../../src/server/server-lifecycle.ts';
import { HttpClient } from '../../src/client/index.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLES = path.join(ROOT, 'model_repository');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'models');
/** The models for Triton's client examples (examples/model_repository). */
export const EXAMPLE_MODELS = path.join(ROOT, 'examples', 'model_repository');

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly client: HttpClient;
  readonly log: string[];
  close(): Promise<void>;
}

/** `args` are CLI flags; the model repositories default to the example repository. */
export async function startTestServer(args: string[] = []): Promise<TestServer> {
  const hasRepo = args.some((a) => a.startsWith('--model-repository'));
  const options = parseCliOptions([
    ...(hasRepo ? [] : [`--model-repository=${EXAMPLES}`]),
    '--http-address=127.0.0.1', '--http-port=0', '--grpc-port=0', '--metrics-port=0',
    ...args,
  ]);
  const log: string[] = [];
  const server = await startServer(options, { logLevel: 'silent', announce: (line) => log.push(line) });
  const url = `http://127.0.0.1:${server.httpPort}`;
  return { server, url, client: new HttpClient(url), log, close: () => server.close() };
}

const copies: string[] = [];
process.on('exit', () => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/**
 * A throw-away repository holding copies of the named example or fixture models, unchanged, for
 * `--model-repository=`. Each model is a worker pool whose threads each load onnxruntime, so a
 * server that loads only what its tests use starts and stops much faster than one that loads
 * every example and fixture. (Copies, not symlinks: the repository scan skips links.) Removed
 * when the process exits.
 */
export function repositoryOf(...models: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-models-'));
  copies.push(dir);
  for (const name of models) {
    const from = [EXAMPLES, FIXTURES, EXAMPLE_MODELS].map((d) => path.join(d, name)).find((d) => existsSync(d));
    if (!from) throw new Error(`no example or fixture model '${name}'`);
    cpSync(from, path.join(dir, name), { recursive: true });
  }
  return dir;
}

/** A batch of `rows` copies of the 16 values 0..15 plus `row * 16`, for the `simple` model. */
export function sequence(rows: number, start = 0): number[] {
  return Array.from({ length: rows * 16 }, (_, i) => start + i);
}
