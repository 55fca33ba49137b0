/**
 * A closed-loop load generator over keep-alive HTTP: `concurrency` clients each send one request,
 * wait for its answer, and send the next, for a fixed time. Reports throughput and latency
 * percentiles. Meant to run in its own process, apart from the server under test.
 */
import http from 'node:http';
import { percentile } from './measure.ts';

export { percentile };

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
}

function post(agent: http.Agent, url: URL, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs each sender in a closed loop (send, wait for the answer, send again) for the warm-up
 * and then the measured time; a sender resolves true for a good answer. Shared by every
 * protocol's load generator.
 */
export async function closedLoop(senders: readonly (() => Promise<boolean>)[], durationMs: number, warmupMs = 1000): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const warmupEnd = Date.now() + warmupMs;
  const end = warmupEnd + durationMs;
  let started = 0;
  await Promise.all(senders.map(async (send) => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      const ok = await send().catch(() => false);
      const now = Date.now();
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        started = now;
      }
      if (measuring && now < end) {
        if (ok) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        else errors++;
      }
    }
  }));
  const seconds = (end - (started || warmupEnd)) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    throughput: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p90Ms: percentile(latencies, 0.9),
    p99Ms: percentile(latencies, 0.99),
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const send = async () => (await post(agent, url, options.body, options.headers)) === 200;
  try {
    return await closedLoop(Array.from({ length: options.concurrency }, () => send), options.durationMs, options.warmupMs);
  } finally {
    agent.destroy();
  }
}
