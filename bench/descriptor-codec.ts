/**
 * `node --import tsx bench/descriptor-codec.ts [--round-trips N] [--rounds R]`
 *
 * How a run descriptor (src/workers/protocol.ts: a RunTask in, a WorkerReply back; tensor bytes
 * stay in the ring) should cross the channel between the primary and a worker thread, measured
 * as real round trips to one worker thread, in one run:
 *
 * - plain: the objects themselves, structured-cloned by postMessage (what Nereid sends today);
 * - msgpackr, posted: packed by a Packr whose record structures are declared alike on both sides,
 *   the Uint8Array posted (structured clone copies its bytes);
 * - msgpackr, transferred: packed the same way, its ArrayBuffer moved in the transfer list;
 * - msgpackr, shared area: packed straight into a SharedArrayBuffer area of each side
 *   (Packr.useBuffer), and only the byte count posted as the notification;
 * - and through piscina's run(), as Nereid calls it: plain objects against the packing posted
 *   both ways, and moved both ways (transferList in, piscina's move() back).
 *
 * Every figure includes the decode on the other side. Two descriptor pairs: `simple` (two slot
 * tensors in, two out) and a batch of 32 requests (a gathered input of 32 parts, half in the slot
 * and half in client regions, with 16 direct outputs). Rounds are interleaved (plain, posted,
 * transferred, shared, plain, ...) so drift in the machine's load hits each alike; the figures
 * are the medians over rounds. Prints a table and one JSON line.
 *
 * This file is also the workers' code, imported by descriptor-codec-worker.mjs: a plain
 * worker_threads worker (workerData.role 'raw') and piscina's (the default export).
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMainThread, MessageChannel, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { Packr, Unpackr } from 'msgpackr';
import { move, Piscina, workerData as piscinaWorkerData } from 'piscina';
import type { BatchTensor, DirectOutput, GatheredTensor, SlotTensor } from '../src/shm/index.ts';
import { kDescriptorStructures } from '../src/workers/descriptor-codec.ts';
import type { RunTask, WorkerReply } from '../src/workers/index.ts';

// ---- The descriptors ----------------------------------------------------------------------------

const slotTensor = (name: string, offset: number): SlotTensor => ({ name, type: 'int32', dims: [1, 16], offset, byteLength: 64 });

const simpleTask: RunTask = { op: 'run', slot: 1, inputs: [slotTensor('INPUT0', 0), slotTensor('INPUT1', 64)], outputs: ['OUTPUT0', 'OUTPUT1'] };
const simpleReply: WorkerReply = {
  ok: true, op: 'run', outputs: [slotTensor('OUTPUT0', 128), slotTensor('OUTPUT1', 192)],
  timings: { inputNs: 2_150, inferNs: 31_870, outputNs: 1_420 }, instance: 3, direct: { failedReads: [], writes: [] },
};

// 32 requests of a [n, 3, 32, 32] FP32 model: even ones sent their input in the body (now in the
// slot), odd ones name a client region (read by the worker) and want their output written there.
const rowBytes = 3 * 32 * 32 * 4;
const gathered: GatheredTensor = {
  name: 'input__0', type: 'float32', dims: [32, 3, 32, 32], byteLength: 32 * rowBytes,
  parts: Array.from({ length: 32 }, (_, i) => i % 2 === 0
    ? { offset: (i / 2) * rowBytes, byteLength: rowBytes }
    : { file: { fd: 40 + i, position: 4096 * i, byteLength: rowBytes }, request: i, source: (i - 1) / 2 }),
};
const direct: DirectOutput[] = Array.from({ length: 16 }, (_, k) => ({
  name: 'output__0', request: 2 * k + 1, rows: [2 * k + 1, 1], file: { fd: 40 + 2 * k + 1, position: 4096 * (2 * k + 1) + rowBytes, byteLength: 40 },
}));
const batchTask: RunTask = { op: 'run', slot: 0, inputs: [gathered], outputs: ['output__0'], direct };
const batchReply: WorkerReply = {
  ok: true, op: 'run',
  outputs: [{ name: 'output__0', type: 'float32', dims: [32, 10], offset: 16 * rowBytes, byteLength: 32 * 40 } satisfies BatchTensor],
  timings: { inputNs: 48_200, inferNs: 912_400, outputNs: 6_100 }, instance: 2,
  direct: { failedReads: [], writes: Array.from({ length: 16 }, () => ({ written: 40 })) },
};

const cases = { simple: { task: simpleTask, reply: simpleReply }, batch32: { task: batchTask, reply: batchReply } };
type CaseName = keyof typeof cases;

// ---- The codec ----------------------------------------------------------------------------------

// The record structures of src/workers/descriptor-codec.ts, declared alike on both sides as
// msgpackr's docs advise for repeated shapes (see that module). A Packr of its own per path here,
// because the shared-area path packs into a given buffer (useBuffer).
const structures = (): string[][] => kDescriptorStructures.map((keys) => [...keys]);
const newPackr = (): Packr => new Packr({ structures: structures(), maxSharedStructures: kDescriptorStructures.length });
const newUnpackr = (): Unpackr => new Unpackr({ structures: structures(), maxSharedStructures: kDescriptorStructures.length });

type Mode = 'plain' | 'posted' | 'transferred' | 'shared';
const modes: Mode[] = ['plain', 'posted', 'transferred', 'shared'];
const kAreaBytes = 64 * 1024;

/** One side's send and receive for a mode; `area` is its own shared area, `peer` the other's. */
function endpoint(port: MessagePort, area: SharedArrayBuffer, peer: SharedArrayBuffer) {
  const packr = newPackr();
  const unpackr = newUnpackr();
  const mine = Buffer.from(area);
  const theirs = Buffer.from(peer);
  return {
    send(mode: Mode, value: unknown): void {
      if (mode === 'plain') port.postMessage(value);
      else if (mode === 'posted') {
        // A copy of exactly the packed bytes: pack() returns a view into packr's own arena
        // (kilobytes), and posting the view would clone the whole arena.
        port.postMessage(new Uint8Array(packr.pack(value)));
      } else if (mode === 'transferred') {
        // The same copy, moved instead of cloned (the arena itself must stay: packr reuses it).
        const bytes = new Uint8Array(packr.pack(value));
        port.postMessage(bytes, [bytes.buffer]);
      } else {
        // The peer has decoded the previous message before answering, so the area is free again.
        packr.useBuffer(mine);
        port.postMessage(packr.pack(value).length);
      }
    },
    receive(mode: Mode, message: unknown): unknown {
      if (mode === 'plain') return message;
      if (mode === 'shared') return unpackr.unpack(theirs.subarray(0, message as number));
      return unpackr.unpack(message as Uint8Array);
    },
  };
}

// ---- The workers --------------------------------------------------------------------------------

interface RawSetup { role: 'raw'; port: MessagePort; toWorker: SharedArrayBuffer; toMain: SharedArrayBuffer }

if (!isMainThread && (workerData as RawSetup | undefined)?.role === 'raw') {
  const setup = workerData as RawSetup;
  let mode: Mode = 'plain';
  let reply: unknown = null;
  const side = endpoint(setup.port, setup.toMain, setup.toWorker);
  // Control messages (mode, case) come on parentPort; descriptors on the dedicated port.
  parentPort!.on('message', (m: { mode: Mode; name: CaseName }) => { mode = m.mode; reply = cases[m.name].reply; parentPort!.postMessage('ready'); });
  setup.port.on('message', (message: unknown) => {
    const task = side.receive(mode, message) as RunTask;
    if (task.op !== 'run') throw new Error('not a run task');
    side.send(mode, reply);
  });
}

const piscinaPackr = isMainThread ? null : newPackr();
const piscinaUnpackr = isMainThread ? null : newUnpackr();
/** piscina's task handler: answers a plain task with its plain reply, a packed one packed. */
export default function handle(task: RunTask | Uint8Array): WorkerReply | Uint8Array {
  if (task instanceof Uint8Array) {
    const t = piscinaUnpackr!.unpack(task) as RunTask;
    const bytes = new Uint8Array(piscinaPackr!.pack(t.inputs.length === 1 ? batchReply : simpleReply));
    return (piscinaWorkerData as { moved: boolean }).moved ? move(bytes) as Uint8Array : bytes;
  }
  return task.inputs.length === 1 ? batchReply : simpleReply;
}

// ---- The primary --------------------------------------------------------------------------------

const workerFile = new URL('./descriptor-codec-worker.mjs', import.meta.url);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'round-trips': { type: 'string', default: '5000' }, rounds: { type: 'string', default: '7' } } });
  const roundTrips = Number(values['round-trips']);
  const rounds = Number(values.rounds);

  const toWorker = new SharedArrayBuffer(kAreaBytes);
  const toMain = new SharedArrayBuffer(kAreaBytes);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(workerFile, { workerData: { role: 'raw', port: port2, toWorker, toMain } satisfies RawSetup, transferList: [port2] });
  const side = endpoint(port1, toWorker, toMain);

  /** Microseconds per round trip of `count` sequential round trips of `name` in `mode`. */
  async function raw(mode: Mode, name: CaseName, count: number): Promise<number> {
    worker.postMessage({ mode, name });
    await new Promise((resolve) => worker.once('message', resolve));
    const { task } = cases[name];
    let left = count;
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      port1.on('message', (message: unknown) => {
        const reply = side.receive(mode, message) as WorkerReply;
        if (!reply.ok) throw new Error('bad reply');
        if (--left === 0) { port1.removeAllListeners('message'); resolve(); } else side.send(mode, task);
      });
      side.send(mode, task);
    });
    return Number(process.hrtime.bigint() - t0) / count / 1000;
  }

  // One pool per way of passing packed bytes back (piscina's workerData says which), each with
  // its one thread; the plain objects go through the posting pool.
  const newPool = (moved: boolean) => new Piscina({ filename: workerFile.href, workerData: { moved }, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1, recordTiming: false, workerHistogram: false, idleTimeout: 2 ** 31 - 1 });
  const posting = newPool(false);
  const moving = newPool(true);
  const pool = posting;
  const packr = newPackr();
  const unpackr = newUnpackr();
  type PiscinaMode = 'piscina plain' | 'piscina posted' | 'piscina moved';
  async function viaPiscina(mode: PiscinaMode, name: CaseName, count: number): Promise<number> {
    const { task } = cases[name];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      let reply: WorkerReply;
      if (mode === 'piscina plain') reply = await pool.run(task) as WorkerReply;
      else {
        const bytes = new Uint8Array(packr.pack(task));
        const moved = mode === 'piscina moved' ? moving : posting;
        reply = unpackr.unpack(await moved.run(bytes, mode === 'piscina moved' ? { transferList: [bytes.buffer] } : {}) as Uint8Array) as WorkerReply;
      }
      if (!reply.ok) throw new Error('bad reply');
    }
    return Number(process.hrtime.bigint() - t0) / count / 1000;
  }

  const all = [...modes, 'piscina plain', 'piscina posted', 'piscina moved'] as const;
  const samples = new Map<string, number[]>();
  const sizes: Record<string, { taskBytes: number; replyBytes: number }> = {};
  for (const name of Object.keys(cases) as CaseName[]) {
    sizes[name] = { taskBytes: packr.pack(cases[name].task).length, replyBytes: packr.pack(cases[name].reply).length };
    // Warm-up: every path once, a tenth as long, not counted.
    for (const m of all) await (m.startsWith('piscina') ? viaPiscina(m as PiscinaMode, name, roundTrips / 10) : raw(m as Mode, name, roundTrips / 10));
    for (let r = 0; r < rounds; r++) {
      for (const m of all) {
        const us = m.startsWith('piscina') ? await viaPiscina(m as PiscinaMode, name, roundTrips) : await raw(m as Mode, name, roundTrips);
        const key = `${name}|${m}`;
        samples.set(key, [...(samples.get(key) ?? []), us]);
      }
    }
  }
  await posting.destroy();
  await moving.destroy();
  await worker.terminate();

  const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
  const results = [...samples].map(([key, xs]) => {
    const [descriptors, path] = key.split('|') as [string, string];
    const us = median(xs);
    const plain = median(samples.get(`${descriptors}|${path.startsWith('piscina') ? 'piscina plain' : 'plain'}`)!);
    return { descriptors, path, usPerRoundTrip: +us.toFixed(2), roundTripsPerSec: Math.round(1e6 / us), vsPlain: +(plain / us).toFixed(2), minUs: +Math.min(...xs).toFixed(2), maxUs: +Math.max(...xs).toFixed(2) };
  });

  console.log(`Descriptor round trips to one worker thread, median of ${rounds} rounds of ${roundTrips}\n`);
  console.log(`${'descriptors'.padEnd(12)} ${'path'.padEnd(16)} ${'us/rt'.padStart(8)} ${'rt/s'.padStart(8)} ${'vs plain'.padStart(9)}`);
  for (const r of results) console.log(`${r.descriptors.padEnd(12)} ${r.path.padEnd(16)} ${r.usPerRoundTrip.toFixed(2).padStart(8)} ${String(r.roundTripsPerSec).padStart(8)} ${r.vsPlain.toFixed(2).padStart(8)}x`);
  // Read from the files: msgpackr's exports map does not expose its package.json.
  const versionOf = (pkg: string): string => (JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  console.log(JSON.stringify({
    bench: 'descriptor-codec',
    command: `node --import tsx bench/descriptor-codec.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    node: process.version,
    msgpackr: versionOf('msgpackr'),
    piscina: versionOf('piscina'),
    roundTrips, rounds, packedBytes: sizes, results,
  }));
}

if (isMainThread) await main();
