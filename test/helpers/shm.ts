/**
 * Real POSIX shared-memory objects for tests: files under /dev/shm with names unique to this
 * process, each removed by `removeAll` (call it in `after`).
 */
import fs from 'node:fs';
import path from 'node:path';

export const SHM_DIR = '/dev/shm';

export interface ShmObject {
  /** The POSIX key, with its leading '/'. */
  readonly key: string;
  readonly path: string;
}

let counter = 0;
const created = new Set<string>();

/** A unique name under /dev/shm (nothing is created). */
export function uniqueShmName(tag = 'obj'): string {
  return `nereid-test-${process.pid}-${tag}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates an object of `size` bytes (zeros, or `bytes` at the start). */
export function makeShmObject(size: number, bytes?: Uint8Array, tag?: string): ShmObject {
  const name = uniqueShmName(tag);
  const file = path.join(SHM_DIR, name);
  const fd = fs.openSync(file, 'wx+', 0o600);
  created.add(file);
  try {
    fs.ftruncateSync(fd, size);
    if (bytes) fs.writeSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return { key: `/${name}`, path: file };
}

/** Remembers a path made by other means (a link, a directory) so that removeAll deletes it. */
export function track(file: string): string {
  created.add(file);
  return file;
}

/** The bytes of an object now. */
export function readShm(object: ShmObject, offset = 0, length?: number): Buffer {
  const all = fs.readFileSync(object.path);
  return all.subarray(offset, length === undefined ? undefined : offset + length);
}

/** Removes every object this process made. */
export function removeAll(): void {
  for (const file of created) fs.rmSync(file, { force: true, recursive: true });
  created.clear();
}
