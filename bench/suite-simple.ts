/**
 * `simple` (two INT32 vectors of 16, added and subtracted) over HTTP: Nereid (JSON and binary)
 * against the naive server (JSON) at N concurrent clients, and the latency of one client alone.
 * Rounds alternate between the systems so drift in the machine's load hits all of them.
 */
import { encodeInferRequest } from '../src/client/index.ts';
import { runLoad, type LoadResult } from './load.ts';
import { startNaive, startNereid } from './processes.ts';
import { environment, printTable, summarize, type Row } from './report.ts';

export interface SimpleOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  readonly rounds: number;
}

const tensors = [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
];

export async function runSimpleSuite(o: SimpleOptions): Promise<Record<string, unknown>> {
  const json = encodeInferRequest(tensors, {});
  const binary = encodeInferRequest(tensors, { binaryInputs: true, binaryOutputs: true });
  const nereid = await startNereid('model_repository');
  const naive = await startNaive('model_repository/simple/1/model.onnx');
  const systems = [
    { name: 'nereid http-json', port: nereid.port, request: json },
    { name: 'nereid http-binary', port: nereid.port, request: binary },
    { name: 'naive http-json', port: naive.port, request: json },
  ];
  const loaded = new Map<string, LoadResult[]>();
  const single = new Map<string, LoadResult[]>();
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const [concurrency, into] of [[o.concurrency, loaded], [1, single]] as const) {
        for (const s of systems) {
          if (concurrency === 1 && s.name === 'nereid http-binary') continue;
          const r = await runLoad({ url: `http://127.0.0.1:${s.port}/v2/models/simple/infer`, body: s.request.body, headers: s.request.headers, concurrency, durationMs: o.durationMs });
          into.set(s.name, [...(into.get(s.name) ?? []), r]);
          process.stderr.write(`simple round ${round + 1}/${o.rounds} c=${concurrency} ${s.name}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(3)} ms\n`);
        }
      }
    }
  } finally {
    await Promise.all([nereid.stop(), naive.stop()]);
  }
  const rows: Row[] = [...loaded].map(([name, list]) => summarize(name, list));
  const singles: Row[] = [...single].map(([name, list]) => summarize(name, list));
  printTable(`simple over HTTP, ${o.concurrency} concurrent clients, ${o.rounds} x ${o.durationMs / 1000} s per system`, rows, 'naive http-json');
  printTable(`simple over HTTP JSON, 1 client`, singles, 'naive http-json');
  const naive16 = rows.find((r) => r.system === 'naive http-json')!;
  const nereid16 = rows.find((r) => r.system === 'nereid http-json')!;
  const naive1 = singles.find((r) => r.system === 'naive http-json')!;
  const nereid1 = singles.find((r) => r.system === 'nereid http-json')!;
  const figures = {
    jsonRatioToNaive: nereid16.throughput / naive16.throughput,
    binaryRatioToNaive: rows.find((r) => r.system === 'nereid http-binary')!.throughput / naive16.throughput,
    singleClientP50ExtraUs: (nereid1.p50Ms - naive1.p50Ms) * 1000,
  };
  console.log(`\nnereid/naive at ${o.concurrency} clients (JSON): ${figures.jsonRatioToNaive.toFixed(2)}x; one client, median latency above naive: ${figures.singleClientP50ExtraUs.toFixed(0)} µs`);
  return { bench: 'simple', ...environment(), concurrency: o.concurrency, rows, singleClient: singles, ...figures };
}
