/**
 * What a run leaves in OUTDIR: config.pbtxt (the recommendation), report.md (every candidate),
 * pareto.svg (throughput against p99, the front drawn, the recommendation marked) and
 * results.json (the raw results). The SVG is written by hand, as bench/plot.ts's charts are:
 * a scatter plot needs no library, and the package gains no dependency for it.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { paretoFront, recommend, type Outcome } from './pareto.ts';
import { DEFAULT_KEY, type CandidateResult, type PointOutcome, type TuneRun } from './runner.ts';

export interface Summary {
  readonly outcomes: readonly (Outcome & { readonly result: CandidateResult; readonly point: PointOutcome })[];
  readonly front: readonly string[];
  readonly recommended: string | null;
  /** The recommendation's throughput over the default's; null without either. */
  readonly gain: number | null;
}

export function summarize(run: TuneRun): Summary {
  const outcomes = run.results.filter((r) => r.chosen !== null).map((r) => {
    const point = r.points[r.chosen!];
    return { key: r.key, throughput: point.throughput, p99Ms: point.p99Ms, result: r, point };
  });
  const rec = recommend(outcomes, run.options.latencyBudgetMs);
  const def = outcomes.find((o) => o.key === DEFAULT_KEY);
  return {
    outcomes,
    front: paretoFront(outcomes).map((o) => o.key),
    recommended: rec?.key ?? null,
    gain: rec && def && def.throughput > 0 ? rec.throughput / def.throughput : null,
  };
}

const esc = (t: string) => t.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
const fmt = (n: number | null | undefined, digits = 1) => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

/** Ticks from 0 to at least max, in steps of 1, 2 or 5 times a power of ten. */
function ticks(max: number): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = top / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return Array.from({ length: Math.ceil(top / step - 1e-9) + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** The Pareto chart: x is p99 latency (ms), y is throughput (inferences/s). */
export function paretoSvg(run: TuneRun, summary: Summary): string {
  const W = 760, H = 480, L = 80, R = 30, T = 60, B = 70;
  const xs = ticks(Math.max(...summary.outcomes.map((o) => o.p99Ms), run.options.latencyBudgetMs ?? 0));
  const ys = ticks(Math.max(...summary.outcomes.map((o) => o.throughput)));
  const x = (v: number) => L + (v / xs.at(-1)!) * (W - L - R);
  const y = (v: number) => H - B - (v / ys.at(-1)!) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(`nereid tune: ${run.options.model}, ${summary.outcomes.length} configurations (Pareto front in blue)`)}</text>`);
  for (const t of xs) parts.push(`<line x1="${x(t)}" y1="${T}" x2="${x(t)}" y2="${H - B}" stroke="#eee"/><text x="${x(t)}" y="${H - B + 18}" text-anchor="middle">${t}</text>`);
  for (const t of ys) parts.push(`<line x1="${L}" y1="${y(t)}" x2="${W - R}" y2="${y(t)}" stroke="#eee"/><text x="${L - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 25}" text-anchor="middle">p99 latency (ms)</text>`);
  parts.push(`<text transform="translate(20 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">throughput (inferences/s)</text>`);
  const budget = run.options.latencyBudgetMs;
  if (budget !== null) parts.push(`<line data-budget="${budget}" x1="${x(budget)}" y1="${T}" x2="${x(budget)}" y2="${H - B}" stroke="#d62728" stroke-dasharray="6 4"/><text x="${x(budget) + 4}" y="${T + 12}" fill="#d62728">budget ${budget} ms</text>`);
  const front = summary.front.map((k) => summary.outcomes.find((o) => o.key === k)!);
  if (front.length > 0) parts.push(`<polyline data-series="pareto-front" fill="none" stroke="#1f77b4" stroke-width="2" points="${front.map((o) => `${x(o.p99Ms).toFixed(1)},${y(o.throughput).toFixed(1)}`).join(' ')}"/>`);
  for (const o of summary.outcomes) {
    const onFront = summary.front.includes(o.key);
    const fill = o.key === DEFAULT_KEY ? '#ff7f0e' : onFront ? '#1f77b4' : '#999';
    parts.push(`<circle data-candidate="${esc(o.key)}" cx="${x(o.p99Ms).toFixed(1)}" cy="${y(o.throughput).toFixed(1)}" r="4" fill="${fill}"><title>${esc(`${o.key}: ${fmt(o.throughput)} inferences/s, p99 ${fmt(o.p99Ms, 2)} ms`)}</title></circle>`);
  }
  const rec = summary.outcomes.find((o) => o.key === summary.recommended);
  if (rec) parts.push(`<circle data-recommended="${esc(rec.key)}" cx="${x(rec.p99Ms).toFixed(1)}" cy="${y(rec.throughput).toFixed(1)}" r="9" fill="none" stroke="#2ca02c" stroke-width="3"/><text x="${x(rec.p99Ms) + 12}" y="${y(rec.throughput) - 10}" fill="#2ca02c">recommended</text>`);
  const def = summary.outcomes.find((o) => o.key === DEFAULT_KEY);
  if (def) parts.push(`<text x="${x(def.p99Ms) + 8}" y="${y(def.throughput) + 16}" fill="#ff7f0e">default</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function reportMarkdown(run: TuneRun, summary: Summary): string {
  const o = run.options;
  const lines: string[] = [];
  lines.push(`# nereid tune: ${o.model}`, '');
  lines.push(`- Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs (${o.cores} used for thread counts), Node ${process.version}`);
  lines.push(`- Search: ${o.quick ? 'quick (climb from the default)' : 'full sweep'}, ${run.results.length} configurations measured${run.resumed > 0 ? ` (${run.resumed} from the state file of an earlier run)` : ''}, ${fmt(run.wallSeconds, 0)} s`);
  lines.push(`- Load: ${o.concurrencies.join(', ')} concurrent clients, batch 1 per request over HTTP (binary tensors); windows of ${o.windows.intervalMs} ms after ${o.windows.warmupMs} ms of warm-up, until three agree within ${o.windows.stabilityPercentage} % (at most ${o.windows.maxTrials})`);
  lines.push(`- Latency budget (p99): ${o.latencyBudgetMs === null ? 'none' : `${o.latencyBudgetMs} ms`}`);
  const rec = summary.outcomes.find((x) => x.key === summary.recommended);
  const def = summary.outcomes.find((x) => x.key === DEFAULT_KEY);
  lines.push('');
  if (rec) {
    lines.push(`**Recommended: \`${rec.key}\`**: ${fmt(rec.throughput)} inferences/s, p99 ${fmt(rec.p99Ms, 2)} ms at ${rec.point.concurrency} clients${summary.gain !== null ? `, **${fmt(summary.gain, 2)}x** the default's ${fmt(def?.throughput)} inferences/s` : ''}. Its config is config.pbtxt.`);
  } else {
    lines.push(`**No configuration met the budget**${o.latencyBudgetMs !== null ? ` of ${o.latencyBudgetMs} ms` : ''}; config.pbtxt was not written.`);
  }
  lines.push('', '## Every configuration', '');
  lines.push('| configuration | clients | throughput (infer/s) | vs default | p50 (ms) | p99 (ms) | mean batch | server CPU per inference (ms) | stable | fits | front |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of run.results) {
    if (r.points.length === 0) {
      lines.push(`| \`${r.key}\` | - | failed: ${(r.error ?? '').split('\n')[0].replace(/\|/g, '\\|')} | | | | | | | | |`);
      continue;
    }
    r.points.forEach((p, i) => {
      const fits = o.latencyBudgetMs === null || p.p99Ms <= o.latencyBudgetMs;
      const ratio = def && def.throughput > 0 ? `${fmt(p.throughput / def.throughput, 2)}x` : '-';
      const mark = i === r.chosen ? '' : ' (other load)';
      lines.push(`| \`${r.key}\`${mark} | ${p.concurrency} | ${fmt(p.throughput)} | ${ratio} | ${fmt(p.p50Ms, 2)} | ${fmt(p.p99Ms, 2)} | ${fmt(p.meanBatch, 2)} | ${fmt(p.cpuMsPerInference, 3)} | ${p.stable ? 'yes' : `no (${p.trials} windows)`} | ${fits ? 'yes' : 'no'} | ${i === r.chosen && summary.front.includes(r.key) ? 'yes' : ''} |`);
    });
  }
  lines.push('', 'The Pareto front (pareto.svg): the configurations no other beats on both throughput and p99.', '', '![Pareto front](pareto.svg)', '');
  lines.push('Mean batch is the server\'s (inferences per execution, from its statistics, over the windows kept); server CPU is the server process\'s user and system time over the point, warm-up included, per inference answered.', '');
  return lines.join('\n');
}

/** Writes the four outputs; returns their paths. */
export function writeOutputs(run: TuneRun): { summary: Summary; files: string[] } {
  const summary = summarize(run);
  const out = run.options.out;
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(path.join(out, name), text);
    files.push(path.join(out, name));
  };
  const rec = run.results.find((r) => r.key === summary.recommended);
  if (rec) write('config.pbtxt', rec.config);
  write('report.md', reportMarkdown(run, summary));
  write('pareto.svg', paretoSvg(run, summary));
  write('results.json', `${JSON.stringify({
    model: run.options.model,
    machine: { cpu: os.cpus()[0]?.model ?? null, logicalCpus: os.cpus().length, cores: run.options.cores, node: process.version },
    options: run.options,
    wallSeconds: run.wallSeconds,
    resumed: run.resumed,
    recommended: summary.recommended,
    gainOverDefault: summary.gain,
    front: summary.front,
    results: run.results,
  }, null, 2)}\n`);
  return { summary, files };
}
