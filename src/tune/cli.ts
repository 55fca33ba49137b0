/**
 * `nereid tune` (and `npm run tune --`): flags → a tuning run → the outputs in --out. Flag names
 * follow perf_analyzer and Model Analyzer where they have one (-m, --concurrency-range,
 * --measurement-interval, --max-trials, --stability-percentage).
 */
import { parseArgs } from 'node:util';
import { writeOutputs } from './report.ts';
import { machineCores, runTune, type TuneOptions } from './runner.ts';
import { stopRunningServers } from './server-process.ts';

export const TUNE_USAGE = `Usage: nereid tune --model-repository DIR -m MODEL --out OUTDIR [options]

Finds the best configuration of one model on this machine: a real server per candidate,
measured with the benchmark client's engine and its stability rule. Writes OUTDIR/config.pbtxt
(the recommendation), report.md, pareto.svg, results.json, and state.json (an interrupted run
started again with the same flags continues from it).

  --model-repository DIR        the repository holding the model
  -m, --model-name MODEL        the model to tune
  --out OUTDIR                  where the outputs go
  --latency-budget-ms N         p99 budget: the recommendation is the highest throughput within it
  --quick                       climb from the default instead of sweeping every candidate
  --concurrency-range A[:B[:S]] client concurrencies, A to B in steps of S (default 32)
  --gpus IDS                    GPU ids to try KIND_GPU instances on, comma-separated
  --max-candidates N            configurations measured at most, the default included
                                (default 24 with --quick, 1000 without)
  --min-gain-percent P          the climb stops when a step gains less than P % (default 5)
  --measurement-interval MS     measurement window (default 1000)
  --warmup-ms MS                load before the first window (default: one window)
  --max-trials N                windows at most per point (default 6)
  --stability-percentage P      the last three windows agree within P % (default 10)
  --cores N                     cores the thread counts stay within (default: this machine's)
  --max-batch-size-limit N      largest max_batch_size tried (default 128)
  --max-instances N             most instances per device (default 5)
  -h, --help                    this text
`;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${flag} must be a positive integer (got '${value}')`);
  return n;
}

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${flag} must be a positive number (got '${value}')`);
  return n;
}

/** perf_analyzer's start:end:step (end defaults to start, step to 1). */
export function parseConcurrencyRange(text: string): number[] {
  const parts = text.split(':');
  const nums = parts.map(Number);
  if (parts.length > 3 || nums.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`--concurrency-range must be start[:end[:step]] of positive integers (got '${text}')`);
  const [start, end = start, step = 1] = nums;
  if (end < start) throw new RangeError(`--concurrency-range: end ${end} is below start ${start}`);
  const out: number[] = [];
  for (let c = start; c <= end; c += step) out.push(c);
  if (out.length > 64) throw new RangeError(`--concurrency-range gives ${out.length} levels; at most 64`);
  return out;
}

/** The options of a run, from argv (the words after `tune`); null for --help. */
export function parseTuneArgs(argv: readonly string[]): TuneOptions | null {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'model-repository': { type: 'string' },
      'model-name': { type: 'string', short: 'm' },
      out: { type: 'string' },
      'latency-budget-ms': { type: 'string' },
      quick: { type: 'boolean' },
      'concurrency-range': { type: 'string' },
      gpus: { type: 'string' },
      'max-candidates': { type: 'string' },
      'min-gain-percent': { type: 'string' },
      'measurement-interval': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'max-trials': { type: 'string' },
      'stability-percentage': { type: 'string' },
      cores: { type: 'string' },
      'max-batch-size-limit': { type: 'string' },
      'max-instances': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  if (positionals.length > 0) throw new RangeError(`unexpected argument '${positionals[0]}'`);
  for (const flag of ['model-repository', 'model-name', 'out'] as const) {
    if (!values[flag]) throw new RangeError(`--${flag} is required`);
  }
  const gpus = values.gpus === undefined || values.gpus === '' ? [] : values.gpus.split(',').map((g) => {
    const n = Number(g);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--gpus must be comma-separated GPU ids such as 0,1 (got '${values.gpus}')`);
    return n;
  });
  const quick = values.quick ?? false;
  const intervalMs = positiveInt('measurement-interval', values['measurement-interval'], 1000);
  const maxCandidates = positiveInt('max-candidates', values['max-candidates'], quick ? 24 : 1000);
  if (maxCandidates < 2) throw new RangeError('--max-candidates must be at least 2 (the default and one candidate)');
  return {
    modelRepository: values['model-repository']!,
    model: values['model-name']!,
    out: values.out!,
    latencyBudgetMs: values['latency-budget-ms'] === undefined ? null : positiveNumber('latency-budget-ms', values['latency-budget-ms'], 0),
    quick,
    concurrencies: parseConcurrencyRange(values['concurrency-range'] ?? '32'),
    gpus,
    maxCandidates,
    minGain: positiveNumber('min-gain-percent', values['min-gain-percent'], 5) / 100,
    windows: {
      intervalMs,
      warmupMs: values['warmup-ms'] === undefined ? intervalMs : positiveInt('warmup-ms', values['warmup-ms'], intervalMs),
      stabilityPercentage: positiveNumber('stability-percentage', values['stability-percentage'], 10),
      maxTrials: Math.max(3, positiveInt('max-trials', values['max-trials'], 6)),
      latency: 'avg',
      distribution: 'constant',
    },
    cores: positiveInt('cores', values.cores, machineCores()),
    maxBatchSizeLimit: positiveInt('max-batch-size-limit', values['max-batch-size-limit'], 128),
    maxInstances: positiveInt('max-instances', values['max-instances'], 5),
  };
}

/** Runs `nereid tune` with argv (the words after `tune`); resolves with the exit code. */
export async function tuneMain(argv: readonly string[]): Promise<number> {
  let options: TuneOptions | null;
  try {
    options = parseTuneArgs(argv);
  } catch (err) {
    process.stderr.write(`nereid tune: ${(err as Error).message}\n\n${TUNE_USAGE}`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(TUNE_USAGE);
    return 0;
  }
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`nereid tune: ${signal}; stopping the server under test (state.json keeps what was measured)\n`);
    stopRunningServers();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const run = await runTune(options);
    const { summary, files } = writeOutputs(run);
    const rec = summary.outcomes.find((o) => o.key === summary.recommended);
    process.stdout.write(`\n${run.results.length} configurations in ${run.wallSeconds.toFixed(0)} s.\n`);
    process.stdout.write(rec
      ? `Recommended: ${rec.key}: ${rec.throughput.toFixed(1)} inferences/s, p99 ${rec.p99Ms.toFixed(2)} ms${summary.gain !== null ? ` (${summary.gain.toFixed(2)}x the default)` : ''}\n`
      : `No configuration met the latency budget; no config.pbtxt written.\n`);
    process.stdout.write(`Wrote ${files.join(', ')}\n`);
    return rec ? 0 : 1;
  } catch (err) {
    process.stderr.write(`nereid tune: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
