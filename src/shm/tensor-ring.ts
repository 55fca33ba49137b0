/**
 * A tensor ring (see ring-layout.ts): the primary acquires a free slot, writes a batch's inputs
 * into it, and publishes it; a worker runs the batch and writes outputs after the inputs; the
 * primary reads each request's outputs and releases the slot. Slot states live in the shared
 * header so both sides can check that a slot is never reused while in use.
 */
import { kHeaderBytes, kHeaderInts, kMaxSlots, kSlotBytes, kSlotCount, kStateBase, SlotState, alignUp, slotOffset } from './ring-layout.ts';

type State = (typeof SlotState)[keyof typeof SlotState];

export class TensorRing {
  private readonly header: Int32Array;
  /** Free slots, owned by the primary (the only side that acquires and releases). */
  private readonly free: number[] = [];

  private constructor(readonly sab: SharedArrayBuffer, readonly slotCount: number, readonly slotBytes: number, primary: boolean) {
    this.header = new Int32Array(sab, 0, kHeaderInts);
    if (primary) for (let i = slotCount - 1; i >= 0; i--) this.free.push(i);
  }

  /** Creates a ring of `slotCount` slots of at least `slotBytes` bytes each (primary side). */
  static create(slotCount: number, slotBytes: number): TensorRing {
    if (!Number.isInteger(slotCount) || slotCount < 1 || slotCount > kMaxSlots) {
      throw new RangeError(`slotCount must be an integer from 1 to ${kMaxSlots}`);
    }
    const bytes = alignUp(Math.max(1, slotBytes));
    const sab = new SharedArrayBuffer(kHeaderBytes + slotCount * bytes);
    const header = new Int32Array(sab, 0, kHeaderInts);
    header[kSlotCount] = slotCount;
    header[kSlotBytes] = bytes;
    return new TensorRing(sab, slotCount, bytes, true);
  }

  /** Opens a ring made by the primary (worker side). */
  static attach(sab: SharedArrayBuffer): TensorRing {
    const header = new Int32Array(sab, 0, kHeaderInts);
    return new TensorRing(sab, header[kSlotCount], header[kSlotBytes], false);
  }

  /** Slots free now (primary side). */
  get freeCount(): number {
    return this.free.length;
  }

  /** Takes a free slot, or returns -1 when every slot is in use (primary side). */
  acquire(): number {
    const slot = this.free.pop();
    if (slot === undefined) return -1;
    this.expect(slot, SlotState.FREE);
    return slot;
  }

  /** The bytes of a slot. */
  bytes(slot: number): Uint8Array {
    return new Uint8Array(this.sab, slotOffset(this.slotBytes, slot), this.slotBytes);
  }

  /** Hands a filled slot to a worker (primary side). */
  publish(slot: number): void {
    this.move(slot, SlotState.FREE, SlotState.FILLED);
  }

  /** A worker starts on a slot. */
  begin(slot: number): void {
    this.move(slot, SlotState.FILLED, SlotState.RUNNING);
  }

  /** A worker has written the outputs. */
  finish(slot: number): void {
    this.move(slot, SlotState.RUNNING, SlotState.DONE);
  }

  /**
   * Returns a slot to the free list (primary side), from DONE, or from any state once the
   * worker that held it has failed or died: its task has settled, so nothing writes there.
   */
  release(slot: number): void {
    Atomics.store(this.header, kStateBase + slot, SlotState.FREE);
    this.free.push(slot);
  }

  state(slot: number): State {
    return Atomics.load(this.header, kStateBase + slot) as State;
  }

  private move(slot: number, from: State, to: State): void {
    const seen = Atomics.compareExchange(this.header, kStateBase + slot, from, to);
    if (seen !== from) throw new Error(`tensor ring slot ${slot} is in state ${seen}, expected ${from}`);
  }

  private expect(slot: number, state: State): void {
    const seen = this.state(slot);
    if (seen !== state) throw new Error(`tensor ring slot ${slot} is in state ${seen}, expected ${state}`);
  }
}
