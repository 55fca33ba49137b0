/**
 * Triton's sequence batcher, for models with `sequence_batching`: requests carry a correlation id
 * (`sequence_id`, an unsigned integer or a string) and the `sequence_start` / `sequence_end`
 * flags; the requests of one sequence run one at a time, in order; and the server feeds the
 * model's control inputs (START, END, READY, CORRID) with each request's row.
 *
 * Strategies, as Triton's:
 * - `direct`: each sequence holds one slot (an instance and a row of its batches) from its start
 *   to its end; a batch is one instance's slots that have a request waiting, in slot order. A
 *   sequence that finds no free slot waits in the backlog, in arrival order, until one frees.
 *   `max_queue_delay_microseconds` lets a batch wait for `minimum_slot_utilization` of the
 *   instance's slots to have a request.
 * - `oldest`: up to `max_candidate_sequences` sequences are candidates at once (the rest wait in
 *   the backlog); a batch takes the waiting requests of different candidates, oldest first, up to
 *   max_batch_size, on any free instance, leaving at once at max_batch_size or a preferred batch
 *   size, else after `max_queue_delay_microseconds`.
 *
 * A sequence with no request for `max_sequence_idle_microseconds` loses its slot (or candidacy);
 * a later request for it without the START flag is refused. Nereid's ONNX models keep no state
 * between runs, so a row's position only matters through the controls: rows without a request
 * are left out of a batch rather than filled with a READY=false copy, as Triton does.
 */
import { serverError, type ServerError } from '../errors.ts';
import type { EnqueueOptions, InferInput, InferRequest, InferResponse } from '../inference/index.ts';
import type { InstanceSet, ModelInstance } from '../instance/index.ts';
import type { FlagControl, ModelConfig, SequenceBatching } from '../model-config/index.ts';
import type { ModelStatistics } from '../observability/index.ts';
import { runPayload, type QueuedRequest } from './payload.ts';
import type { Scheduler } from './scheduler.ts';

/** A request of a sequence, waiting or running. */
interface SequenceRequest {
  readonly queued: QueuedRequest;
  readonly start: boolean;
  readonly end: boolean;
}

interface Slot {
  readonly instance: ModelInstance;
  readonly row: number;
  sequence: Sequence | null;
}

interface Sequence {
  /** The correlation id as the request gave it. */
  readonly id: bigint | string;
  readonly pending: SequenceRequest[];
  /** direct: the slot it holds; oldest: a placeholder slot marking a candidate. null: backlog. */
  slot: Slot | null;
  /** A request of it is in a batch now. */
  running: boolean;
  /** Its END request was accepted: no more requests join it. */
  ended: boolean;
  /** µs on the monotonic clock of its last request. */
  lastUs: number;
  /** Implicit state by state input name: what the model's state output gave last (shape without the batch dim). */
  readonly states: Map<string, { readonly shape: readonly number[]; readonly bytes: Uint8Array }>;
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** A sequence's key in the maps: uint64 and string ids never meet ("1" and 1 differ). */
const keyOf = (id: bigint | string): string => (typeof id === 'bigint' ? `u${id}` : `s${id}`);

/** The correlation id and flags of a request to a sequence model, with Triton's refusals. */
function sequenceParameters(model: string, parameters: Readonly<Record<string, unknown>>): { id: bigint | string; start: boolean; end: boolean } {
  const raw = parameters.sequence_id;
  let id: bigint | string;
  if (raw === undefined || raw === 0 || raw === 0n || raw === '') {
    throw serverError('BAD_PARAMETER', `inference request to model '${model}' must specify a non-zero or non-empty correlation ID`);
  } else if (typeof raw === 'string') {
    id = raw;
  } else if (typeof raw === 'number' && Number.isInteger(raw) && raw > Number.MAX_SAFE_INTEGER) {
    // A JSON number this large has already been rounded by the parser: never use a changed id.
    throw serverError('BAD_PARAMETER', 'sequence_id above 2^53 - 1 cannot be read exactly from a JSON number; send it over gRPC, or use a string id');
  } else if ((typeof raw === 'number' && Number.isInteger(raw) && raw > 0) || (typeof raw === 'bigint' && raw > 0n && raw < 2n ** 64n)) {
    id = BigInt(raw);
  } else {
    throw serverError('BAD_PARAMETER', "sequence_id must be an unsigned integer or a string");
  }
  const flag = (name: string): boolean => {
    const v = parameters[name];
    if (v === undefined || typeof v === 'boolean') return v === true;
    throw serverError('BAD_PARAMETER', `${name} must be a boolean`);
  };
  return { id, start: flag('sequence_start'), end: flag('sequence_end') };
}

export class SequenceScheduler implements Scheduler {
  private readonly seq: SequenceBatching;
  /** direct: every instance's rows; oldest: one placeholder per candidate place. */
  private readonly slots: Slot[];
  /** Open sequences (not ended) by key, in a slot or in the backlog. */
  private readonly open = new Map<string, Sequence>();
  /** Sequences holding a slot (or a candidacy), ended ones included until their last request ran. */
  private readonly active = new Set<Sequence>();
  /** Sequences waiting for a slot, in arrival order. */
  private readonly backlog: Sequence[] = [];
  private accepted = 0;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];
  private delayTimer: NodeJS.Timeout | null = null;
  private reaper: NodeJS.Timeout | null = null;

  constructor(
    readonly config: ModelConfig,
    readonly version: number,
    readonly instances: InstanceSet,
    readonly stats: ModelStatistics,
  ) {
    this.seq = config.sequenceBatching!;
    const rows = Math.max(1, config.maxBatchSize);
    this.slots = this.seq.strategy === 'direct'
      ? instances.all.flatMap((instance) => Array.from({ length: rows }, (_, row) => ({ instance, row, sequence: null })))
      : Array.from({ length: this.seq.maxCandidateSequences }, (_, row) => ({ instance: instances.all[0], row, sequence: null }));
  }

  enqueue(request: InferRequest, options: EnqueueOptions = {}): Promise<InferResponse> {
    const model = this.config.name;
    const { id, start, end } = sequenceParameters(model, request.parameters);
    if (this.config.maxBatchSize > 0 && (request.inputs[0]?.shape[0] ?? 1) > 1) {
      throw serverError('BAD_PARAMETER', `inference request to model '${model}' must specify batch-size 1 due to requirements of sequence batcher`);
    }
    const corrid = this.seq.corrid;
    if (corrid && (typeof id === 'string') !== (corrid.datatype.wire === 'BYTES')) {
      throw serverError('BAD_DATA', request.id || '<id_unknown>', `sequence batching control '${corrid.name}' data-type is '${typeof id === 'string' ? 'BYTES' : 'UINT64'}', but model '${model}' expects '${corrid.datatype.wire}'`);
    }
    if (this.stopping) throw serverError('SERVER_CLOSING');
    const key = keyOf(id);
    let sequence = this.open.get(key);
    if (!sequence && !start) {
      throw serverError('BAD_PARAMETER', `inference request for sequence ${String(id)} to model '${model}' must specify the START flag on the first request of the sequence`);
    }
    const receivedNs = process.hrtime.bigint();
    if (options.signal?.aborted) {
      this.stats.requestFailed(receivedNs, receivedNs, 'CANCELED');
      return Promise.reject(serverError('REQUEST_CANCELLED'));
    }
    // A START for an open sequence (Triton's "conflict") continues it: its earlier requests run
    // first, then the new one starts over in the same slot.
    if (!sequence) {
      sequence = { id, pending: [], slot: null, running: false, ended: false, lastUs: nowUs(), states: new Map() };
      this.open.set(key, sequence);
      const free = this.freeSlot();
      if (free) this.occupy(free, sequence);
      else this.backlog.push(sequence);
    }
    const owner = sequence;
    owner.lastUs = nowUs();
    if (end) {
      owner.ended = true;
      this.open.delete(key); // a later START with this id begins a new sequence
    }
    let item!: SequenceRequest;
    const done = new Promise<InferResponse>((resolve, reject) => {
      const queued: QueuedRequest = {
        request,
        receivedNs,
        enqueuedUs: nowUs(),
        deadlineUs: Infinity,
        level: 1,
        rows: 1,
        shapeKey: request.inputs.map((i) => `${i.name}:${i.shape.slice(this.config.maxBatchSize > 0 ? 1 : 0).join('x')}`).join(','),
        wanted: request.outputs ? new Set(request.outputs.map((o) => o.name)) : null,
        sinks: request.outputs?.some((o) => o.sink) ? new Map(request.outputs.filter((o) => o.sink).map((o) => [o.name, o.sink!])) : undefined,
        trace: null,
        resolve,
        reject,
      };
      item = { queued, start, end };
    });
    owner.pending.push(item);
    this.accepted++;
    const signal = options.signal;
    const onAbort = signal ? () => this.withdraw(owner, item) : null;
    if (onAbort) signal!.addEventListener('abort', onAbort, { once: true });
    const settled = done.finally(() => {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      this.accepted--;
      if (this.accepted === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
    this.schedule();
    return settled;
  }

  inflightCount(): number {
    return this.accepted;
  }

  /** Sequences holding a slot (or a candidacy) now, and sequences waiting in the backlog. */
  sequenceCounts(): { active: number; backlog: number } {
    return { active: this.active.size, backlog: this.backlog.length };
  }

  pendingCount(): number {
    let n = 0;
    for (const s of this.active) n += s.pending.length;
    for (const s of this.backlog) n += s.pending.length;
    return n;
  }

  /** Resolves the next time no request is in flight (now, if none is); takes new ones meanwhile. */
  idle(): Promise<void> {
    if (this.accepted === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Answers every request still waiting (in a slot's or the backlog's sequences, not in a running
   * batch) with `error`: the server's exit timeout has passed.
   */
  failQueued(error: ServerError): void {
    const doneNs = process.hrtime.bigint();
    for (const sequence of [...this.active, ...this.backlog]) {
      for (const item of sequence.pending.splice(0)) {
        this.stats.requestFailed(item.queued.receivedNs, doneNs, 'REJECTED');
        item.queued.reject(error);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.accepted > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.delayTimer) clearTimeout(this.delayTimer);
    if (this.reaper) clearTimeout(this.reaper);
    await this.instances.close();
  }

  /** direct: the free slot of the instance with the fewest sequences; oldest: any free place. */
  private freeSlot(): Slot | null {
    let best: Slot | null = null;
    let bestLoad = Infinity;
    const load = new Map<ModelInstance, number>();
    for (const s of this.slots) if (s.sequence) load.set(s.instance, (load.get(s.instance) ?? 0) + 1);
    for (const s of this.slots) {
      if (s.sequence) continue;
      const l = load.get(s.instance) ?? 0;
      if (l < bestLoad) {
        best = s;
        bestLoad = l;
      }
    }
    return best;
  }

  private occupy(slot: Slot, sequence: Sequence): void {
    slot.sequence = sequence;
    sequence.slot = slot;
    this.active.add(sequence);
  }

  /** Frees the sequence's slot and gives it to the first sequence of the backlog. */
  private release(sequence: Sequence): void {
    const slot = sequence.slot;
    this.active.delete(sequence);
    sequence.slot = null;
    if (!slot) return;
    slot.sequence = null;
    const next = this.backlog.shift();
    if (next) {
      next.lastUs = nowUs();
      this.occupy(slot, next);
    }
  }

  /** A cancelled request that still waits is withdrawn (CANCELLED); a running one finishes. */
  private withdraw(sequence: Sequence, item: SequenceRequest): void {
    const at = sequence.pending.indexOf(item);
    if (at < 0) return;
    sequence.pending.splice(at, 1);
    const doneNs = process.hrtime.bigint();
    this.stats.requestFailed(item.queued.receivedNs, doneNs, 'CANCELED');
    item.queued.reject(serverError('REQUEST_CANCELLED'));
    if (item.end && sequence.pending.length === 0 && !sequence.running) this.release(sequence);
    this.schedule();
  }

  /** Sends every batch that may leave now; arms the delay and idle timers for the rest. */
  private schedule(): void {
    if (this.seq.strategy === 'direct') this.scheduleDirect();
    else this.scheduleOldest();
    this.armReaper();
  }

  private ready(sequence: Sequence | null): sequence is Sequence {
    return sequence !== null && !sequence.running && sequence.pending.length > 0;
  }

  private scheduleDirect(): void {
    const now = nowUs();
    let waitUs = Infinity;
    for (const instance of this.instances.all) {
      if (instance.busy) continue;
      const slots = this.slots.filter((s) => s.instance === instance);
      const ready = slots.filter((s) => this.ready(s.sequence)).map((s) => s.sequence!);
      if (ready.length === 0) continue;
      // Rows of one batch share their non-batch dims (implicit states may differ in size).
      const oldestFirst = [...ready].sort((a, b) => a.pending[0].queued.enqueuedUs - b.pending[0].queued.enqueuedUs);
      const key = this.batchKey(oldestFirst[0]);
      const heads = ready.filter((s) => this.batchKey(s) === key);
      const oldestUs = Math.min(...heads.map((s) => s.pending[0].queued.enqueuedUs));
      const waited = now - oldestUs;
      if (heads.length / slots.length < this.seq.minimumSlotUtilization && waited < this.seq.maxQueueDelayUs) {
        waitUs = Math.min(waitUs, this.seq.maxQueueDelayUs - waited);
        continue;
      }
      this.dispatch(instance, heads);
    }
    this.armDelay(waitUs);
  }

  private scheduleOldest(): void {
    const maxRows = Math.max(1, this.config.maxBatchSize);
    let waitUs = Infinity;
    for (;;) {
      const heads = [...this.active].filter((s) => this.ready(s)).sort((a, b) => a.pending[0].queued.enqueuedUs - b.pending[0].queued.enqueuedUs);
      if (heads.length === 0) break;
      const instance = this.instances.pickFree();
      if (!instance) break;
      const key = this.batchKey(heads[0]);
      const batch = heads.filter((s) => this.batchKey(s) === key).slice(0, maxRows);
      const waited = nowUs() - batch[0].pending[0].queued.enqueuedUs;
      const full = batch.length === maxRows || this.seq.preferredBatchSizes.includes(batch.length);
      if (!full && waited < this.seq.maxQueueDelayUs) {
        waitUs = this.seq.maxQueueDelayUs - waited;
        break;
      }
      this.dispatch(instance, batch);
    }
    this.armDelay(waitUs);
  }

  /** Requests batch together only with equal keys: their inputs' and states' non-batch dims. */
  private batchKey(sequence: Sequence): string {
    const head = sequence.pending[0];
    if (this.seq.states.length === 0) return head.queued.shapeKey;
    const states = this.seq.states.map((s) => (head.start ? s.initialShape : sequence.states.get(s.input.name)?.shape ?? s.initialShape).join('x'));
    return `${head.queued.shapeKey};${states.join(',')}`;
  }

  private armDelay(waitUs: number): void {
    if (this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = null;
    }
    if (waitUs === Infinity) return;
    this.delayTimer = setTimeout(() => {
      this.delayTimer = null;
      this.schedule();
    }, Math.max(1, Math.ceil(waitUs / 1000)));
  }

  /** Runs the head request of each sequence, as one batch, on `instance`. */
  private dispatch(instance: ModelInstance, sequences: readonly Sequence[]): void {
    const items = sequences.map((s) => {
      s.running = true;
      return s.pending.shift()!;
    });
    const batch = items.map((item, r) => withControls(this.config, this.seq, item, sequences[r]));
    void runPayload(this, instance, batch).then(() => {
      const now = nowUs();
      sequences.forEach((s, r) => {
        s.running = false;
        s.lastUs = now;
        if (items[r].end && s.pending.length === 0) this.release(s);
      });
      this.schedule();
    });
  }

  /**
   * Frees the slots of sequences idle for max_sequence_idle_microseconds (no request waiting or
   * running), and arms itself for the next one to expire.
   */
  private armReaper(): void {
    if (this.reaper) {
      clearTimeout(this.reaper);
      this.reaper = null;
    }
    let next = Infinity;
    let released = false;
    const now = nowUs();
    for (const s of [...this.active]) {
      if (s.running || s.pending.length > 0) continue;
      const expires = s.lastUs + this.seq.maxSequenceIdleUs;
      if (expires <= now) {
        if (this.open.get(keyOf(s.id)) === s) this.open.delete(keyOf(s.id));
        this.release(s);
        released = true;
      } else {
        next = Math.min(next, expires);
      }
    }
    // A freed slot may have gone to a sequence of the backlog whose requests can run now.
    if (released) {
      if (this.seq.strategy === 'direct') this.scheduleDirect();
      else this.scheduleOldest();
    }
    if (next === Infinity) return;
    this.reaper = setTimeout(() => {
      this.reaper = null;
      this.schedule();
    }, Math.max(1, Math.ceil((next - now) / 1000)));
    this.reaper.unref();
  }
}

/**
 * `item`'s request with the control and state inputs the model takes, for its row of the batch;
 * its answer keeps the state outputs for the sequence's next request, and hands the client only
 * the outputs it may see (a state output only where config.pbtxt lists it under output).
 */
function withControls(config: ModelConfig, seq: SequenceBatching, item: SequenceRequest, sequence: Sequence): QueuedRequest {
  const id = sequence.id;
  const shape = config.maxBatchSize > 0 ? [1, 1] : [1];
  const extra: InferInput[] = [];
  const flag = (control: FlagControl | null, on: boolean) => {
    if (!control) return;
    const value = on ? control.trueValue : control.falseValue;
    const wire = control.tensor.datatype.wire;
    const bytes = wire === 'INT32' ? new Uint8Array(Int32Array.of(value).buffer)
      : wire === 'FP32' ? new Uint8Array(Float32Array.of(value).buffer)
        : Uint8Array.of(value ? 1 : 0);
    extra.push({ name: control.tensor.name, datatype: wire, shape, data: { kind: 'raw', bytes } });
  };
  flag(seq.start, item.start);
  flag(seq.end, item.end);
  flag(seq.ready, true);
  if (seq.corrid) {
    const dt = seq.corrid.datatype;
    if (dt.wire === 'BYTES') {
      extra.push({ name: seq.corrid.name, datatype: 'BYTES', shape, data: { kind: 'strings', strings: [String(id)] } });
    } else {
      // Written as little-endian bytes; a narrower type keeps the id's low bits, as a C cast would.
      const bytes = new Uint8Array(dt.byteSize);
      const view = new DataView(bytes.buffer);
      if (dt.byteSize === 8) view.setBigUint64(0, BigInt.asUintN(64, id as bigint), true);
      else view.setUint32(0, Number(BigInt.asUintN(32, id as bigint)), true);
      extra.push({ name: seq.corrid.name, datatype: dt.wire, shape, data: { kind: 'raw', bytes } });
    }
  }
  for (const state of seq.states) {
    const kept = item.start ? undefined : sequence.states.get(state.input.name);
    const stateShape = kept?.shape ?? state.initialShape;
    extra.push({
      name: state.input.name, datatype: state.input.datatype.wire, shape: config.maxBatchSize > 0 ? [1, ...stateShape] : [...stateShape],
      data: { kind: 'raw', bytes: kept?.bytes ?? state.initialBytes },
    });
  }
  const q = item.queued;
  if (seq.states.length === 0) return { ...q, request: { ...q.request, inputs: [...q.request.inputs, ...extra] } };
  const stateOutputs = seq.states.map((s) => s.output.name);
  const listed = new Set(config.outputs.map((t) => t.name));
  return {
    ...q,
    request: { ...q.request, inputs: [...q.request.inputs, ...extra] },
    wanted: q.wanted ? new Set([...q.wanted, ...stateOutputs]) : null,
    resolve: (response) => {
      for (const state of seq.states) {
        const out = response.outputs.find((o) => o.name === state.output.name);
        if (!out || Array.isArray(out.data)) continue;
        sequence.states.set(state.input.name, { shape: config.maxBatchSize > 0 ? out.shape.slice(1) : [...out.shape], bytes: new Uint8Array(out.data.slice(0)) });
      }
      const shown = response.outputs.filter((o) => !stateOutputs.includes(o.name) || (listed.has(o.name) && (q.wanted === null || q.wanted.has(o.name))));
      q.resolve({ ...response, outputs: shown });
    },
  };
}
