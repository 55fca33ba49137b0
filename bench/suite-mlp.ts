/**
 * The batching issue's targets: the MLP (FP32 [1024] → 4096 → 4096 → 1000, about 100 MB), one
 * instance with one runtime thread everywhere, binary HTTP at N concurrent clients, against
 * the naive server (one request per model call) and the in-process ceiling at the batch size.
 */
import { encodeInferRequest } from '../src/client/index.ts';
import { measureCeiling } from './ceiling.ts';
import { runLoad, type LoadResult } from './load.ts';
import { BENCH_REPO, ensureMlpRepository, MLP_LAYERS } from './mlp-model.ts';
import { startNaive, startNereid } from './processes.ts';
import { environment, printTable, summarize, type Row } from './report.ts';

export interface MlpOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  readonly rounds: number;
  /** max_batch_size, and the ceiling's batch size. */
  readonly batch: number;
}

export async function runMlpSuite(o: MlpOptions): Promise<Record<string, unknown>> {
  const modelFile = ensureMlpRepository(o.batch);
  const input = Float32Array.from({ length: MLP_LAYERS[0] }, (_, i) => (i % 13) / 13);
  const request = encodeInferRequest([{ name: 'INPUT0', datatype: 'FP32', shape: [1, MLP_LAYERS[0]], data: input }], { binaryInputs: true, binaryOutputs: true });
  const nereid = await startNereid(BENCH_REPO);
  const naive = await startNaive(modelFile, 1);
  const systems = [
    { name: 'nereid http-binary', port: nereid.port },
    { name: 'naive http-binary', port: naive.port },
  ];
  const results = new Map<string, LoadResult[]>();
  const ceilings: number[] = [];
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const s of systems) {
        const r = await runLoad({ url: `http://127.0.0.1:${s.port}/v2/models/mlp/infer`, body: request.body, headers: request.headers, concurrency: o.concurrency, durationMs: o.durationMs, warmupMs: 2000 });
        results.set(s.name, [...(results.get(s.name) ?? []), r]);
        process.stderr.write(`mlp round ${round + 1}/${o.rounds} ${s.name}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(1)} ms, errors ${r.errors}\n`);
      }
      const ceiling = await measureCeiling(modelFile, [{ name: 'INPUT0', datatype: 'FP32', dims: [MLP_LAYERS[0]] }], o.batch, 1, o.durationMs);
      ceilings.push(ceiling);
      process.stderr.write(`mlp round ${round + 1}/${o.rounds} in-process ceiling at batch ${o.batch}: ${ceiling.toFixed(0)} items/s\n`);
    }
  } finally {
    await Promise.all([nereid.stop(), naive.stop()]);
  }
  const rows: Row[] = [...results].map(([name, list]) => summarize(name, list));
  const ceiling = ceilings.reduce((a, b) => a + b, 0) / ceilings.length;
  rows.push({ system: `in-process ceiling (batch ${o.batch})`, throughput: ceiling, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, errors: 0 });
  printTable(`MLP 1024-4096-4096-1000 over binary HTTP, ${o.concurrency} clients, 1 runtime thread, ${o.rounds} x ${o.durationMs / 1000} s per system`, rows, 'naive http-binary');
  const nereidRow = rows[0];
  const figures = {
    ratioToNaive: nereidRow.throughput / rows[1].throughput,
    ratioToCeiling: nereidRow.throughput / ceiling,
    failedRequests: nereidRow.errors,
  };
  console.log(`\nnereid/naive: ${figures.ratioToNaive.toFixed(2)}x (target >= 5x); nereid/ceiling: ${figures.ratioToCeiling.toFixed(2)} (target >= 0.70); failed requests: ${figures.failedRequests}`);
  return { bench: 'mlp', ...environment(), concurrency: o.concurrency, batch: o.batch, rows, ...figures };
}
