/**
 * The small messages that cross the channel instead of tensor bytes: where each tensor of a
 * batch lies in a slot, or in a client's shared-memory object. BYTES tensors travel as strings
 * (onnxruntime-node takes string[]).
 */
import type { FileRange } from './file-range.ts';

/** A tensor in a slot: `offset` is from the start of the slot, in bytes. */
export interface SlotTensor {
  readonly name: string;
  /** onnxruntime-node's type name ('float32', 'int64', ...). */
  readonly type: string;
  readonly dims: readonly number[];
  readonly offset: number;
  readonly byteLength: number;
}

/** A BYTES tensor, carried in the descriptor itself. */
export interface StringTensor {
  readonly name: string;
  readonly type: 'string';
  readonly dims: readonly number[];
  readonly strings: readonly string[];
}

/** A tensor that did not fit its slot, moved across as its own ArrayBuffer (the slow path). */
export interface MovedTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly buffer: ArrayBuffer;
}

/**
 * One request's part of a gathered input, in batch order: bytes in the slot at `offset`, or bytes
 * in a client's shared-memory object that the worker reads itself. `request` is the request's
 * index in the batch, so that a failed read fails that request alone (and its outputs are not
 * written); `source` numbers the file parts of the batch, for the primary to say which failed.
 */
export type GatherPart = { readonly offset: number; readonly byteLength: number } | FilePart;

export interface FilePart {
  readonly file: FileRange;
  readonly request: number;
  readonly source: number;
}

/**
 * A numeric input the worker gathers into its runtime buffer from parts, one per request: parts
 * in the slot are copied from it, parts in client regions are read straight from their objects
 * (pread), so those bytes cross into the worker once and never touch the slot or the primary.
 */
export interface GatheredTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly byteLength: number;
  readonly parts: readonly GatherPart[];
}

/**
 * An output every request of the batch had written into its own client region by the worker:
 * nothing else of it crosses back, only its type and shape.
 */
export interface WrittenTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly written: true;
}

export type BatchTensor = SlotTensor | StringTensor | MovedTensor | GatheredTensor | WrittenTensor;

/**
 * Rows of an output the worker writes straight into a client's object (pwrite) for request
 * `request` of the batch. `rows` is [first row, row count] within the batch's output, or null for
 * all of it (a model without batching, whose batch is one request). `file.byteLength` is the most
 * the client's range holds.
 */
export interface DirectOutput {
  readonly name: string;
  readonly request: number;
  readonly rows: readonly [number, number] | null;
  readonly file: FileRange;
}

/**
 * What became of a DirectOutput: the bytes written; or the output's size when it did not fit the
 * client's range (nothing written); or why it could not be written.
 */
export type DirectWriteOutcome =
  | { readonly written: number }
  | { readonly tooLarge: number }
  | { readonly failed: string };

/** A gathered input part the worker could not read from a client's object, and why. */
export interface FailedRead {
  readonly request: number;
  readonly source: number;
  readonly reason: string;
}

export function isSlotTensor(t: BatchTensor): t is SlotTensor {
  return (t as SlotTensor).offset !== undefined;
}

export function isStringTensor(t: BatchTensor): t is StringTensor {
  return (t as StringTensor).strings !== undefined;
}

export function isMovedTensor(t: BatchTensor): t is MovedTensor {
  return (t as MovedTensor).buffer !== undefined;
}

export function isGatheredTensor(t: BatchTensor): t is GatheredTensor {
  return (t as GatheredTensor).parts !== undefined;
}

export function isWrittenTensor(t: BatchTensor): t is WrittenTensor {
  return (t as WrittenTensor).written === true;
}

export function isFilePart(p: GatherPart): p is FilePart {
  return (p as FilePart).file !== undefined;
}
