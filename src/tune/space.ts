/**
 * What the tuner searches, kept pure: the dimensions of a model's configuration (device and
 * instance count, max_batch_size, dynamic batching and its delay, preferred batch sizes, the
 * onnxruntime thread counts), the candidates they make, and the quick search's climb.
 *
 * A candidate is a point on a grid: each dimension is an ordered list of values, and the quick
 * search moves one step along one dimension at a time (Model Analyzer's quick search does the
 * same over max_batch_size and instance count), from the default, keeping a move only while it
 * gains enough.
 */

/** Where a candidate's instances run: 'cpu', or 'gpu' on the listed devices. */
export interface Device {
  readonly kind: 'KIND_CPU' | 'KIND_GPU';
  readonly gpus: readonly number[];
}

/** One configuration the tuner measures. */
export interface Candidate {
  readonly device: Device;
  /** Instances per device (per GPU for KIND_GPU, as Triton's instance_group count). */
  readonly instances: number;
  /** 0: the model does not batch (then batching is 'off' and preferred is false). */
  readonly maxBatchSize: number;
  /** 'off': no dynamic_batching; a number: dynamic batching with this max_queue_delay_microseconds (0 is Triton's default). */
  readonly batching: 'off' | number;
  /** preferred_batch_size: [max_batch_size] when true. */
  readonly preferred: boolean;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
}

/** The values each dimension takes, in order (a step is to the next or previous value). */
export interface SearchSpace {
  readonly devices: readonly Device[];
  readonly instances: readonly number[];
  readonly maxBatchSizes: readonly number[];
  readonly batching: readonly ('off' | number)[];
  readonly preferred: readonly boolean[];
  readonly intraOpThreads: readonly number[];
  readonly interOpThreads: readonly number[];
}

export interface SpaceInput {
  /** CPU cores of the machine. */
  readonly cores: number;
  /** GPU ids (--gpus); each becomes a device of its own. */
  readonly gpus: readonly number[];
  /** Whether the model batches (its config has max_batch_size > 0). */
  readonly batches: boolean;
  /** Largest max_batch_size tried (default 128, as Model Analyzer). */
  readonly maxBatchSizeLimit?: number;
  /** Most instances per device (default 5, as Model Analyzer). */
  readonly maxInstances?: number;
}

/** Dynamic batching delays tried, in µs: Triton's default (0, batch what is queued) and a few waits. */
export const BATCHING_DELAYS_US = [0, 100, 500, 2000] as const;

/** Powers of two from 1 up to `limit`. */
export function powersOfTwo(limit: number): number[] {
  const out: number[] = [];
  for (let v = 1; v <= limit; v *= 2) out.push(v);
  return out;
}

/** The search space of one model on this machine. */
export function searchSpace(input: SpaceInput): SearchSpace {
  if (!(input.cores >= 1)) throw new RangeError(`cores must be at least 1 (got ${input.cores})`);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  return {
    devices: [{ kind: 'KIND_CPU', gpus: [] }, ...input.gpus.map((g): Device => ({ kind: 'KIND_GPU', gpus: [g] }))],
    instances: range(input.maxInstances ?? 5),
    maxBatchSizes: input.batches ? powersOfTwo(input.maxBatchSizeLimit ?? 128) : [0],
    batching: input.batches ? ['off', ...BATCHING_DELAYS_US] : ['off'],
    preferred: input.batches ? [false, true] : [false],
    intraOpThreads: range(input.cores),
    interOpThreads: range(Math.min(2, input.cores)),
  };
}

/** A candidate's identity, stable across runs (the state file's key). */
export function candidateKey(c: Candidate): string {
  const device = c.device.kind === 'KIND_CPU' ? 'cpu' : `gpu${c.device.gpus.join('+')}`;
  return `${device}x${c.instances}/mbs${c.maxBatchSize}/${c.batching === 'off' ? 'nodb' : `db${c.batching}us`}${c.preferred ? '/pref' : ''}/intra${c.intraOpThreads}/inter${c.interOpThreads}`;
}

/**
 * Whether a candidate makes sense: preferred sizes need dynamic batching and a max_batch_size
 * above 1; a max_batch_size of 1 with a batching delay only waits; the threads of all CPU
 * instances together stay within the machine's cores.
 */
export function isValid(c: Candidate, cores: number): boolean {
  if (c.preferred && (c.batching === 'off' || c.maxBatchSize <= 1)) return false;
  if (c.maxBatchSize <= 1 && typeof c.batching === 'number' && c.batching > 0) return false;
  if (c.device.kind === 'KIND_CPU' && c.instances * c.intraOpThreads > cores) return false;
  if (c.interOpThreads > cores) return false;
  return true;
}

const DIMENSIONS = ['devices', 'instances', 'maxBatchSizes', 'batching', 'preferred', 'intraOpThreads', 'interOpThreads'] as const;
type Dimension = (typeof DIMENSIONS)[number];

function valueOf(c: Candidate, d: Dimension): unknown {
  switch (d) {
    case 'devices': return c.device;
    case 'instances': return c.instances;
    case 'maxBatchSizes': return c.maxBatchSize;
    case 'batching': return c.batching;
    case 'preferred': return c.preferred;
    case 'intraOpThreads': return c.intraOpThreads;
    case 'interOpThreads': return c.interOpThreads;
  }
}

function withValue(c: Candidate, d: Dimension, v: unknown): Candidate {
  switch (d) {
    case 'devices': return { ...c, device: v as Device };
    case 'instances': return { ...c, instances: v as number };
    case 'maxBatchSizes': return { ...c, maxBatchSize: v as number };
    case 'batching': return { ...c, batching: v as 'off' | number };
    case 'preferred': return { ...c, preferred: v as boolean };
    case 'intraOpThreads': return { ...c, intraOpThreads: v as number };
    case 'interOpThreads': return { ...c, interOpThreads: v as number };
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The index of a value in its dimension, or of the nearest one for numbers. */
function indexIn(values: readonly unknown[], v: unknown): number {
  const exact = values.findIndex((x) => same(x, v));
  if (exact >= 0) return exact;
  if (typeof v !== 'number') return 0;
  let best = 0;
  values.forEach((x, i) => {
    if (typeof x === 'number' && Math.abs(x - v) < Math.abs((values[best] as number) - v)) best = i;
  });
  return best;
}

/** The grid point nearest a configuration (the default's place on the grid, where the climb starts). */
export function snapToSpace(c: Candidate, space: SearchSpace): Candidate {
  return DIMENSIONS.reduce((acc, d) => withValue(acc, d, space[d][indexIn(space[d], valueOf(c, d))]), c);
}

/** Every valid candidate one step away from `c` along one dimension. */
export function neighbours(c: Candidate, space: SearchSpace, cores: number): Candidate[] {
  const out: Candidate[] = [];
  for (const d of DIMENSIONS) {
    const values = space[d];
    const at = indexIn(values, valueOf(c, d));
    for (const step of [-1, 1]) {
      const v = values[at + step];
      if (v === undefined) continue;
      let next = withValue(c, d, v);
      // Turning dynamic batching on or off drops preferred sizes that would no longer make sense.
      if (next.preferred && !isValid(next, cores)) next = { ...next, preferred: false };
      // More CPU instances share the cores: each gets fewer intra-op threads rather than the step being lost.
      if (d === 'instances' && next.device.kind === 'KIND_CPU' && next.instances * next.intraOpThreads > cores) {
        next = { ...next, intraOpThreads: Math.max(1, Math.floor(cores / next.instances)) };
      }
      if (isValid(next, cores) && candidateKey(next) !== candidateKey(c)) out.push(next);
    }
  }
  return out;
}

/** The full sweep: every valid candidate of the space. */
export function allCandidates(space: SearchSpace, cores: number): Candidate[] {
  let out: Candidate[] = [{ device: space.devices[0], instances: 1, maxBatchSize: 0, batching: 'off', preferred: false, intraOpThreads: 1, interOpThreads: 1 }];
  for (const d of DIMENSIONS) out = out.flatMap((c) => space[d].map((v) => withValue(c, d, v)));
  return out.filter((c) => isValid(c, cores));
}

/**
 * What the climb knows of a measured candidate: its score, its throughput where its p99 fits the
 * latency budget, and minus its p99 (in ms) where it does not, so that any fitting candidate beats
 * every other, and among those that do not fit, the faster answer wins.
 */
export interface Scored {
  readonly candidate: Candidate;
  readonly score: number;
}

export interface ClimbSettings {
  /** A move is kept only when the new best gains at least this fraction (0.05: 5 %). */
  readonly minGain: number;
  /** Candidates measured at most (the default included). */
  readonly maxCandidates: number;
}

/**
 * The quick search's next step. From the best candidate so far (starting at `start`), the
 * untried neighbours are measured; when the best of everything measured beats the climb's
 * current point by at least `minGain`, the climb moves there and looks at its neighbours;
 * otherwise (gains flattened) it stops. Returns the candidates to measure next, [] when done.
 * `current` is the climb's position (a key), kept by the caller between steps.
 */
export function nextClimbStep(start: Candidate, current: Candidate, measured: readonly Scored[], space: SearchSpace, cores: number, settings: ClimbSettings): { current: Candidate; next: Candidate[] } {
  const byKey = new Map(measured.map((m) => [candidateKey(m.candidate), m]));
  const remaining = settings.maxCandidates - measured.length;
  if (remaining <= 0) return { current, next: [] };
  if (!byKey.has(candidateKey(start))) return { current: start, next: [start] };
  const untried = (c: Candidate) => neighbours(c, space, cores).filter((n) => !byKey.has(candidateKey(n)));
  const here = untried(current);
  if (here.length > 0) return { current, next: here.slice(0, remaining) };
  const best = measured.reduce((a, b) => (b.score > a.score ? b : a));
  const currentScore = byKey.get(candidateKey(current))?.score ?? -Infinity;
  const gained = best.score - currentScore >= settings.minGain * Math.abs(currentScore) && best.score > currentScore;
  if (!gained || candidateKey(best.candidate) === candidateKey(current)) return { current, next: [] };
  const there = untried(best.candidate);
  if (there.length === 0) return { current: best.candidate, next: [] };
  return { current: best.candidate, next: there.slice(0, remaining) };
}
