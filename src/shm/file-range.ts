/**
 * Positioned reads and writes of a range of a client's shared-memory object, through the region's
 * file descriptor. Both the primary (SharedObject) and the workers (execute-batch) use them: file
 * descriptors belong to the process, so a worker thread can pread and pwrite a region the primary
 * opened, as long as the descriptor stays open, which the request's lease guarantees until the
 * batch that uses it has settled.
 *
 * They never throw: they return null, or why the bytes could not be moved (an errno code, or
 * kShrunk when the object ended early), and leave the message to the caller.
 */
import fs from 'node:fs';

/** Bytes in a shared-memory object: its descriptor, where they start in the object, how many. */
export interface FileRange {
  readonly fd: number;
  /** From the start of the object (not of the region), in bytes. */
  readonly position: number;
  readonly byteLength: number;
}

/** The reason given when a read ends early: the client shrank its object under the region. */
const kShrunk = 'the shared memory object is now smaller than the registered region';

/** Largest single pread/pwrite: Node refuses more than 2 GiB - 1 bytes in one call. */
const kIoChunkBytes = 1 << 30;

// Only the code of a failed call is kept: a system message could carry the object's path,
// which is the client's key.
const codeOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'I/O error';

/** Fills `target` from `position` of `fd`; null, or why not (then `target` may be partly filled). */
export function readFully(fd: number, target: Uint8Array, position: number): string | null {
  let done = 0;
  while (done < target.length) {
    let n: number;
    try {
      n = fs.readSync(fd, target, done, Math.min(target.length - done, kIoChunkBytes), position + done);
    } catch (err) {
      return codeOf(err);
    }
    if (n === 0) return kShrunk;
    done += n;
  }
  return null;
}

/** Writes all of `source` at `position` of `fd`; null, or why not. */
export function writeFully(fd: number, source: Uint8Array, position: number): string | null {
  let done = 0;
  while (done < source.length) {
    try {
      done += fs.writeSync(fd, source, done, Math.min(source.length - done, kIoChunkBytes), position + done);
    } catch (err) {
      return codeOf(err);
    }
  }
  return null;
}
