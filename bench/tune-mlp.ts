/**
 * The tuner's target on the bench MLP (issue 19): `nereid tune --quick` from a deliberately poor
 * default (max_batch_size 32 without dynamic batching, one instance), its wall time, and then the
 * recommended configuration and the poor default each started fresh and measured with 32 clients
 * (the same engine and stability rule, longer windows), their throughput ratio and p99s.
 *
 *   node --import tsx bench/tune-mlp.ts [--budget-ms 250] [--out bench/out/tune-mlp] [--max-candidates 24] [--skip-tune]
 *
 * The tuner runs as the installed command runs (`node bin/nereid.js tune`, compiled, from dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { candidateRepository, httpTransport, inferenceBody, measurePoint, startServerProcess, fetchStats, type TensorMeta } from '../src/tune/index.ts';
import { BENCH_REPO, ensureMlpRepository, MLP_LAYERS } from './mlp-model.ts';
import { ensureBuilt, ROOT } from './processes.ts';

const { values } = parseArgs({ options: { 'budget-ms': { type: 'string', default: '250' }, out: { type: 'string', default: path.join(ROOT, 'bench', 'out', 'tune-mlp') }, 'max-candidates': { type: 'string', default: '24' }, 'skip-tune': { type: 'boolean', default: false } } });
const budget = Number(values['budget-ms']);
const out = path.resolve(values.out!);

export const POOR_DEFAULT = `name: "mlp"
platform: "onnxruntime_onnx"
max_batch_size: 32
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${MLP_LAYERS[0]} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${MLP_LAYERS.at(-1)} ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
`;

ensureBuilt();
const modelFile = ensureMlpRepository(32);
const repo = path.join(BENCH_REPO, 'tune-mlp');
const modelDir = path.join(repo, 'mlp');
if (!existsSync(path.join(modelDir, '1', 'model.onnx'))) {
  mkdirSync(path.join(modelDir, '1'), { recursive: true });
  linkSync(modelFile, path.join(modelDir, '1', 'model.onnx'));
}
writeFileSync(path.join(modelDir, 'config.pbtxt'), POOR_DEFAULT);

let tuneSeconds: number | null = null;
if (!values['skip-tune']) {
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['bin/nereid.js', 'tune', '--model-repository', repo, '-m', 'mlp', '--out', out, '--quick', '--latency-budget-ms', String(budget), '--max-candidates', values['max-candidates']!], { cwd: ROOT, stdio: 'inherit' });
    child.on('exit', resolve);
  });
  tuneSeconds = (performance.now() - t0) / 1000;
  console.log(`tune: exit ${code}, ${tuneSeconds.toFixed(0)} s wall`);
}

/** Starts `config` fresh and measures it at 32 clients with 2-second windows. */
async function verify(label: string, config: string) {
  const r = candidateRepository(modelDir, 'mlp', config);
  const server = await startServerProcess(r.dir, 'mlp');
  try {
    const meta = await fetch(`${server.httpUrl}/v2/models/mlp`).then((x) => x.json()) as { inputs: TensorMeta[]; outputs: { name: string }[] };
    const transport = httpTransport(server.httpUrl, 'mlp', inferenceBody(meta.inputs.map((t) => ({ ...t, shape: t.shape.map(Number) })), meta.outputs.map((o) => o.name), true), 32);
    try {
      const p = await measurePoint(transport, { mode: 'concurrency', value: 32 }, { intervalMs: 2000, warmupMs: 2000, stabilityPercentage: 10, maxTrials: 10, latency: 'avg', distribution: 'constant' }, () => fetchStats(server.httpUrl, 'mlp', null), (line) => console.log(`  ${label}: ${line}`));
      const figures = { throughput: p.figures.requestRate, p50Ms: p.figures.p50Ms, p99Ms: p.figures.p99Ms, errors: p.figures.errors, stable: p.stable, meanBatch: p.server?.meanBatch ?? null };
      console.log(`${label}: ${figures.throughput.toFixed(1)} infer/s, p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, mean batch ${figures.meanBatch?.toFixed(2)}, ${p.stable ? 'stable' : 'unstable'}`);
      return figures;
    } finally {
      transport.close();
    }
  } finally {
    await server.stop();
    r.remove();
  }
}

if (!existsSync(path.join(out, 'config.pbtxt'))) {
  console.log(`no recommendation within ${budget} ms (see ${path.join(out, 'report.md')}); nothing to verify`);
  process.exit(1);
}
const recommended = readFileSync(path.join(out, 'config.pbtxt'), 'utf8');
const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { recommended: string; wallSeconds: number; results: unknown[] };
const poor = await verify('poor default', POOR_DEFAULT);
const best = await verify(`recommended ${results.recommended}`, recommended);
const summary = { budgetMs: budget, tuneWallSeconds: tuneSeconds, tunerReportedSeconds: results.wallSeconds, configurations: results.results.length, recommended: results.recommended, poor, best, ratio: best.throughput / poor.throughput, p99WithinBudget: best.p99Ms <= budget };
writeFileSync(path.join(out, 'verify.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`ratio ${summary.ratio.toFixed(2)}x at 32 clients; recommended p99 ${best.p99Ms.toFixed(1)} ms (budget ${budget} ms): ${summary.p99WithinBudget ? 'within' : 'over'}`);
