/**
 * Reading the Prometheus text format in tests: scrape a server's /metrics and look up one
 * sample by name and labels (in any order).
 */
import { request } from './http.ts';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every sample line of a scrape (comments and blank lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the sample `name` whose labels are exactly `labels`, or undefined. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const keys = Object.keys(labels);
  return samples.find((s) => s.name === name
    && Object.keys(s.labels).length === keys.length
    && keys.every((k) => s.labels[k] === labels[k]))?.value;
}

/** GETs /metrics on `port` (loopback) and parses it; throws unless the answer is 200. */
export async function scrape(port: number): Promise<{ text: string; samples: Sample[]; contentType: string }> {
  const res = await request(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${res.body.toString()}`);
  const text = res.body.toString('utf8');
  return { text, samples: parseMetrics(text), contentType: String(res.headers['content-type']) };
}
