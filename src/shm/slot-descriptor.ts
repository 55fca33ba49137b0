/**
 * The small messages that cross the channel instead of tensor bytes: where each tensor of a
 * batch lies in a slot. BYTES tensors travel as strings (onnxruntime-node takes string[]).
 */

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

export type BatchTensor = SlotTensor | StringTensor | MovedTensor;

export function isSlotTensor(t: BatchTensor): t is SlotTensor {
  return (t as SlotTensor).offset !== undefined;
}

export function isStringTensor(t: BatchTensor): t is StringTensor {
  return (t as StringTensor).strings !== undefined;
}
