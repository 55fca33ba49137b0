/**
 * The layout of a tensor ring: one SharedArrayBuffer shared by the primary and every worker of
 * one instance pool, cut into equal slots. A slot carries one batch: the primary writes the
 * inputs, a worker reads them and writes the outputs after them, the primary reads the outputs.
 *
 *   byte 0                 kHeaderBytes
 *   ┌──────────────────────┬────────────────────┬────────────────────┬─────┐
 *   │ header (Int32 fields)│ slot 0             │ slot 1             │ ... │
 *   └──────────────────────┴────────────────────┴────────────────────┴─────┘
 *                          │ inputs │ outputs │ free │
 *                          each tensor starts at a kAlign-byte boundary
 *
 * Header fields (Int32, index into `new Int32Array(sab, 0, kHeaderInts)`):
 *   kSlotCount  written once by the primary at creation
 *   kSlotBytes  written once by the primary at creation
 *   kStateBase + i  state of slot i; one writer at a time, in this cycle:
 *     FREE ──primary──► FILLED ──worker──► RUNNING ──worker──► DONE ──primary──► FREE
 *   The slot's bytes belong to whoever may write its next state; the descriptor that crosses
 *   the message channel hands the slot over (postMessage orders the writes before the reads).
 */

export const kSlotCount = 0;
export const kSlotBytes = 1;
export const kStateBase = 2;

export const SlotState = { FREE: 0, FILLED: 1, RUNNING: 2, DONE: 3 } as const;

/** Tensor alignment inside a slot, in bytes: a cache line, and a multiple of every element size. */
export const kAlign = 64;

/** Most slots one ring may have (the header has room for this many states). */
export const kMaxSlots = 64;

export const kHeaderInts = kStateBase + kMaxSlots;

/** Header size in bytes, padded to kAlign so slot 0 is aligned. */
export const kHeaderBytes = Math.ceil((kHeaderInts * 4) / kAlign) * kAlign;

/** Rounds a byte count up to the next kAlign boundary. */
export function alignUp(bytes: number): number {
  return Math.ceil(bytes / kAlign) * kAlign;
}

/** Byte offset of slot `i` from the start of the ring. */
export function slotOffset(slotBytes: number, i: number): number {
  return kHeaderBytes + i * slotBytes;
}
