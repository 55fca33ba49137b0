/**
 * The measurement engine: drives one load setting (a closed loop at a concurrency, or an open
 * loop at a request rate) through a transport without pause, and cuts the time into measurement
 * windows until the last three agree (perf_analyzer's stability rule) or the trials run out.
 * Each window records the client's latencies, failures and CPU use, and the server's statistics
 * at its end, so the server-side split covers exactly the windows that were kept.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { combineWindows, isStable, STABLE_WINDOWS, windowLatency, windowThroughput, type PointFigures, type StabilityLatency, type Window } from './measure.ts';
import { serverSplit, type ServerSplit, type StatsSnapshot } from './server-stats.ts';

/** What the engine drives: one sender per client slot, resolving true for a good answer (bench/transports.ts's Transport is one). */
export interface Transport {
  sender(slot: number): () => Promise<boolean>;
}

export interface PointLoad {
  readonly mode: 'concurrency' | 'request-rate';
  /** Clients, or requests per second. */
  readonly value: number;
}

export interface WindowSettings {
  readonly intervalMs: number;
  readonly warmupMs: number;
  readonly stabilityPercentage: number;
  readonly maxTrials: number;
  readonly latency: StabilityLatency;
  readonly distribution: 'constant' | 'poisson';
}

export interface PointResult {
  readonly figures: PointFigures;
  readonly stable: boolean;
  /** Windows measured, kept or not. */
  readonly trials: number;
  readonly server?: ServerSplit;
}

/** Connections the open loop spreads its requests over (and shared-memory output areas). */
export const OPEN_LOOP_SLOTS = 32;

/** Latencies and failures since the last cut; the engine swaps it out at each window boundary. */
class Recorder {
  latencies: number[] = [];
  errors = 0;

  record(ok: boolean, ms: number): void {
    if (ok) this.latencies.push(ms);
    else this.errors++;
  }

  cut(): { latencies: number[]; errors: number } {
    const out = { latencies: this.latencies, errors: this.errors };
    this.latencies = [];
    this.errors = 0;
    return out;
  }
}

/** `concurrency` clients, each sending its next request when the last is answered. */
function closedLoop(transport: Transport, concurrency: number, recorder: Recorder, running: () => boolean): Promise<void> {
  return Promise.all(Array.from({ length: concurrency }, async (_, slot) => {
    const send = transport.sender(slot);
    while (running()) {
      const t0 = performance.now();
      const ok = await send();
      recorder.record(ok, performance.now() - t0);
    }
  })).then(() => {});
}

/**
 * Requests sent on a schedule (`rate` per second, evenly spaced or with exponential gaps),
 * whether or not earlier ones were answered. Timers fire at best every millisecond, so the
 * loop sends every request that fell due since it last woke.
 */
async function openLoop(transport: Transport, rate: number, distribution: 'constant' | 'poisson', recorder: Recorder, running: () => boolean): Promise<void> {
  const senders = Array.from({ length: OPEN_LOOP_SLOTS }, (_, slot) => transport.sender(slot));
  const gapMs = () => (distribution === 'constant' ? 1000 / rate : (-Math.log(1 - Math.random()) * 1000) / rate);
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  let dueAt = 0;
  let sent = 0;
  while (running()) {
    const now = performance.now() - start;
    while (dueAt <= now) {
      const t0 = performance.now();
      const p = senders[sent++ % senders.length]().then((ok) => recorder.record(ok, performance.now() - t0));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      dueAt += gapMs();
    }
    await sleep(Math.max(1, Math.min(50, dueAt - (performance.now() - start))));
  }
  await Promise.all(inFlight);
}

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * Measures one point. `stats` reads the server's counters (none for a server without the
 * statistics extension); `progress` gets one line per window.
 */
export async function measurePoint(transport: Transport, load: PointLoad, settings: WindowSettings, stats: (() => Promise<StatsSnapshot>) | null, progress: (line: string) => void = () => {}): Promise<PointResult> {
  const recorder = new Recorder();
  let going = true;
  const running = () => going;
  const driving = load.mode === 'concurrency'
    ? closedLoop(transport, load.value, recorder, running)
    : openLoop(transport, load.value, settings.distribution, recorder, running);
  // A server without the statistics extension (or a failed read) leaves the split out, not the point.
  const read = async () => (stats ? stats().catch(() => null) : null);
  const windows: Window[] = [];
  const snapshots: (StatsSnapshot | null)[] = [];
  try {
    await sleep(settings.warmupMs);
    recorder.cut();
    let windowStart = performance.now();
    let cpuStart = cpuMicros();
    snapshots.push(await read());
    for (let trial = 1; trial <= settings.maxTrials; trial++) {
      // Sleep to the window's end, whatever the statistics read took.
      await sleep(Math.max(0, windowStart + settings.intervalMs - performance.now()));
      const { latencies, errors } = recorder.cut();
      const now = performance.now();
      const cpu = cpuMicros();
      latencies.sort((a, b) => a - b);
      const w: Window = { requests: latencies.length, errors, seconds: (now - windowStart) / 1000, latenciesMs: latencies, cpuUs: cpu - cpuStart };
      windows.push(w);
      windowStart = now;
      cpuStart = cpu;
      snapshots.push(await read());
      const stable = isStable(windows, settings.stabilityPercentage, settings.latency);
      progress(`window ${trial}/${settings.maxTrials}: ${windowThroughput(w).toFixed(1)} req/s, ${settings.latency === 'avg' ? 'avg' : `p${settings.latency}`} ${windowLatency(w, settings.latency).toFixed(2)} ms, errors ${errors}, client cpu ${((w.cpuUs / 1e6 / w.seconds) * 100).toFixed(0)}%${stable ? ', stable' : ''}`);
      if (stable) break;
    }
  } finally {
    going = false;
    await driving;
  }
  const kept = windows.slice(-STABLE_WINDOWS);
  const before = snapshots[snapshots.length - 1 - kept.length];
  const after = snapshots[snapshots.length - 1];
  return {
    figures: combineWindows(kept),
    stable: isStable(windows, settings.stabilityPercentage, settings.latency),
    trials: windows.length,
    ...(before && after ? { server: serverSplit(before, after) } : {}),
  };
}
