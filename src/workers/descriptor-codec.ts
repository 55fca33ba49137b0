/**
 * Run descriptors (a RunTask in, a WorkerReply out) packed with msgpackr for the message channel
 * between the primary and a worker, instead of structured clone. bench/descriptor-codec.ts
 * measured it (docs/architecture.md, "Descriptors and msgpackr"): 1.4-1.7x as fast for a batch
 * of 32 gathered parts, as fast on a bare port for `simple`'s descriptors, but about 2 µs (6%)
 * slower through piscina for those; so small tasks are best sent as plain objects there.
 *
 * Both threads load this module, so both hold the same record structures: a record then costs one
 * byte for its keys. The list is fixed (maxSharedStructures is its length), so a Packr never adds
 * a shape the other thread would not know; any other shape is written inline in its message,
 * which costs bytes, never correctness. Key order matters: the shapes follow the object literals
 * that build the descriptors; a new field, or a different order, just falls back to inline.
 *
 * A MovedTensor's ArrayBuffer must not go through this codec (msgpackr would copy its bytes into
 * the message): send such a task as a plain object with the buffer in the transfer list.
 */
import { Packr, Unpackr } from 'msgpackr';

/** The record shapes of RunTask, WorkerReply and the slot descriptors, in their literals' key order. */
export const kDescriptorStructures: readonly (readonly string[])[] = [
  ['op', 'slot', 'inputs', 'outputs'],
  ['op', 'slot', 'inputs', 'outputs', 'direct'],
  ['op', 'slot', 'inputs', 'outputs', 'direct', 'writtenOnly'],
  ['name', 'type', 'dims', 'offset', 'byteLength'],
  ['name', 'type', 'dims', 'strings'],
  ['name', 'type', 'dims', 'byteLength', 'parts'],
  ['name', 'type', 'dims', 'written'],
  ['offset', 'byteLength'],
  ['file', 'request', 'source'],
  ['fd', 'position', 'byteLength'],
  ['name', 'request', 'rows', 'file'],
  ['ok', 'op', 'outputs', 'timings', 'instance', 'direct'],
  ['inputNs', 'inferNs', 'outputNs'],
  ['failedReads', 'writes'],
  ['request', 'source', 'reason'],
  ['written'],
  ['tooLarge'],
  ['failed'],
  ['ok', 'message'],
];

// msgpackr extends the structures array in place; each side gets its own copy.
const structures = (): string[][] => kDescriptorStructures.map((keys) => [...keys]);
const packr = new Packr({ structures: structures(), maxSharedStructures: kDescriptorStructures.length });
const unpackr = new Unpackr({ structures: structures(), maxSharedStructures: kDescriptorStructures.length });

/**
 * Packs a descriptor into a Uint8Array of its own, exactly as long as the message, to post or to
 * move (transfer). pack() returns a view into the Packr's reused arena (kilobytes): posting that
 * view would clone the whole arena, and moving it would take the arena away, so one copy of the
 * packed bytes (tens to hundreds of bytes) is made here.
 */
export function encodeDescriptor(descriptor: unknown): Uint8Array {
  return new Uint8Array(packr.pack(descriptor));
}

/** Unpacks what encodeDescriptor packed, on the other thread. */
export function decodeDescriptor<T>(bytes: Uint8Array): T {
  return unpackr.unpack(bytes) as T;
}
