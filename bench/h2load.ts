/**
 * Load from h2load (nghttp2's load generator, written in C; Debian's nghttp2-client package),
 * for measuring the server with a client that costs the same little over either protocol: over
 * HTTP/1.1 with one request in flight per connection, or over HTTP/2 with many streams on a
 * connection (gRPC, whose requests it sends as fixed bodies). Optional: nothing else in the
 * project needs it, and callers check h2loadAvailable() first.
 *
 * h2load counts an answer by its HTTP status alone, so a gRPC error (HTTP 200 with a non-zero
 * grpc-status) looks like a success to it; callers read failures from the server's statistics.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadResult } from './load.ts';

export function h2loadAvailable(): boolean {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface H2loadOptions {
  readonly url: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  /** true: HTTP/1.1 (one request in flight per connection); false: HTTP/2. */
  readonly http1: boolean;
  readonly connections: number;
  /** Requests in flight on each connection (HTTP/2 streams; 1 for HTTP/1.1). */
  readonly streamsPerConnection: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
}

/** Runs h2load for the duration after its warm-up; latency percentiles are NaN (h2load gives a mean). */
export async function runH2load(options: H2loadOptions): Promise<LoadResult & { meanMs: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-h2load-'));
  try {
    const bodyFile = path.join(dir, 'body');
    writeFileSync(bodyFile, options.body);
    const args = [
      ...(options.http1 ? ['--h1'] : []),
      '-c', String(options.connections),
      '-m', String(options.http1 ? 1 : options.streamsPerConnection),
      '-D', String(options.durationMs / 1000),
      '--warm-up-time', String((options.warmupMs ?? 1000) / 1000),
      '-d', bodyFile,
      ...Object.entries(options.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
      options.url,
    ];
    const out = await new Promise<string>((resolve, reject) => {
      execFile('h2load', args, { maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    return parseH2loadOutput(out, options.durationMs / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kTimeUnits: Record<string, number> = { us: 1e-3, ms: 1, s: 1000 };

/** The figures of h2load's report that a LoadResult holds. */
export function parseH2loadOutput(out: string, seconds: number): LoadResult & { meanMs: number } {
  const finished = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(out);
  const requests = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const time = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
  if (!finished || !requests) throw new Error(`h2load gave no figures:\n${out}`);
  const succeeded = Number(requests[2]);
  return {
    requests: succeeded,
    errors: Number(requests[3]) + Number(requests[4]) + Number(requests[5]),
    seconds,
    throughput: Number(finished[1]),
    p50Ms: NaN,
    p90Ms: NaN,
    p99Ms: NaN,
    meanMs: time ? Number(time[5]) * kTimeUnits[time[6]] : NaN,
  };
}
