/**
 * `npm run bench -- --suite simple|mlp|all [--concurrency N] [--duration-secs S] [--rounds R]`
 *   `[--server-cpus LIST --client-cpus LIST]` (taskset CPU lists: the servers on some cores, the load on others)
 *
 * Each suite runs Nereid and its baselines in one run on this machine and prints a table and
 * one JSON line (the command, the machine, the versions, the figures). --json FILE appends
 * those lines to a file.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMlpSuite } from './suite-mlp.ts';
import { runSimpleSuite } from './suite-simple.ts';
import { ensureBuilt, pinCpus } from './processes.ts';

/** The fixed suites, as bench/RESULTS.md runs them. */
export async function runSuites(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      suite: { type: 'string', default: 'all' },
      concurrency: { type: 'string' },
      'duration-secs': { type: 'string', default: '5' },
      rounds: { type: 'string', default: '2' },
      batch: { type: 'string', default: '32' },
      json: { type: 'string' },
      'server-cpus': { type: 'string' },
      'client-cpus': { type: 'string' },
    },
  });
  pinCpus(values['server-cpus'] ?? null, values['client-cpus'] ?? null);
  ensureBuilt();
  const suites = values.suite === 'all' ? ['simple', 'mlp'] : [values.suite!];
  const unknown = suites.filter((s) => s !== 'simple' && s !== 'mlp');
  if (unknown.length > 0) throw new Error(`--suite must be simple, mlp or all (got ${unknown.join(', ')})`);
  const durationMs = Number(values['duration-secs']) * 1000;
  const rounds = Number(values.rounds);

  for (const suite of suites) {
    const result = suite === 'simple'
      ? await runSimpleSuite({ concurrency: Number(values.concurrency ?? 16), durationMs, rounds })
      : await runMlpSuite({ concurrency: Number(values.concurrency ?? 32), durationMs, rounds, batch: Number(values.batch) });
    const line = JSON.stringify(result);
    console.log(line);
    if (values.json) appendFileSync(values.json, `${line}\n`);
  }
}
