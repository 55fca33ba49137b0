/**
 * The registry of client system shared-memory regions (Triton's system shared memory extension).
 *
 * A client creates a POSIX shared-memory object (a file under /dev/shm), registers a range of it
 * under a name, and then names the region, an offset and a size in its requests. The server holds
 * one file descriptor per region and moves bytes with positioned reads and writes (pread/pwrite):
 * the worker thread that runs the batch reads numeric inputs straight into the runtime's buffers
 * and writes numeric outputs straight out of the runtime's (the descriptor is process-wide), so
 * each moves once each way, as a mapping would give, with no native addon and no byte through the
 * main thread or the tensor plane. It also avoids a mapping's failure mode: a client that shrinks its object under a
 * mapping kills the server with SIGBUS, while under pread it gets a short read, and its request
 * fails with 400.
 *
 * Lifetime: a region is reference-counted. Registration holds one reference and every use (a
 * lease) one more. Unregistering drops the name at once (it can be registered again) and the
 * registration's reference; the descriptor is closed when the last lease ends. So a request that
 * leased a region before an unregister finishes with its data, and nothing ever reads or writes
 * through a closed descriptor number (which the process may already have reused for a socket).
 */
import fs from 'node:fs';
import path from 'node:path';
import { serverError } from '../errors.ts';
import { RegionLease, SharedObject } from './shared-object.ts';

/** A registered region, as the status endpoints show it. */
export interface RegionStatus {
  readonly name: string;
  /** The key as the client gave it (e.g. '/input0'). */
  readonly key: string;
  /** Where the region starts in the shared-memory object, in bytes. */
  readonly offset: number;
  readonly byteSize: number;
}

interface ClientRegionsOptions {
  /** --allow-client-shm: without it, register, unregister and leases are refused. */
  readonly allowed: boolean;
  /** --client-shm-max-bytes: largest total byteSize of the registered regions. */
  readonly maxTotalBytes: number;
  /** Where POSIX shared-memory objects live; /dev/shm on Linux. */
  readonly directory?: string;
}

/** Most regions registered at once: each holds a file descriptor. */
const kMaxRegions = 1024;
/** Longest region name, and longest key (NAME_MAX). */
const kMaxNameLength = 255;

// O_NOFOLLOW: a symbolic link under /dev/shm must not lead anywhere else (glibc's shm_open does
// the same). O_NONBLOCK: opening a FIFO planted there must not block the event loop (regular
// files ignore it). Both are 0 where the platform lacks them.
const OPEN_FLAGS = fs.constants.O_RDWR | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * The object name a key stands for, or null when the key is not one plain name. POSIX keys start
 * with '/', which is dropped; what is left must not be empty, hold another '/', hold '..', or
 * hold control characters, so it can only name an entry directly in the shm directory.
 */
export function shmObjectName(key: string): string | null {
  const name = key.startsWith('/') ? key.slice(1) : key;
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name.length > kMaxNameLength || name.includes('/') || name.includes('..') || /[\u0000-\u001f\u007f]/.test(name)) {
    return null;
  }
  return name;
}

/** Registered regions by name; see the file comment for their lifetime. */
export class ClientRegions {
  private readonly regions = new Map<string, { status: RegionStatus; object: SharedObject }>();
  private totalBytes = 0;
  private readonly directory: string;

  constructor(private readonly options: ClientRegionsOptions) {
    this.directory = options.directory ?? '/dev/shm';
  }

  /** Whether the server was started with --allow-client-shm=true. */
  get allowed(): boolean {
    return this.options.allowed;
  }

  /**
   * Registers `byteSize` bytes at `offset` of the object named by `key` as region `name`. Checks
   * the name, the key, the object (it must exist, be a regular file, and be at least
   * offset + byteSize bytes long by fstat), that the name is free, and the limits.
   */
  register(name: string, key: string, offset: number, byteSize: number): void {
    if (!this.options.allowed) throw serverError('SHM_DISABLED');
    if (typeof name !== 'string' || name === '' || name.length > kMaxNameLength) {
      throw serverError('BAD_REQUEST', `a shared memory region name must be 1 to ${kMaxNameLength} characters`);
    }
    const refuse = (why: string) => serverError('SHM_BAD_REGISTER', name, why);
    const objectName = typeof key === 'string' ? shmObjectName(key) : null;
    if (objectName === null) {
      throw refuse("invalid args: the key must be one plain name such as '/input0', with no other '/' and no '..'");
    }
    if (this.regions.has(name)) throw serverError('SHM_ALREADY_REGISTERED', name);
    if (!isCount(offset) || !isCount(byteSize) || !Number.isSafeInteger(offset + byteSize)) {
      throw refuse('invalid args: offset and byte_size must be non-negative integers');
    }
    if (byteSize === 0) throw refuse('invalid args: byte_size must be at least 1');
    if (this.regions.size >= kMaxRegions) {
      throw serverError('SHM_OVER_LIMIT', name, `${kMaxRegions} regions are registered already, the most this server holds`);
    }
    if (this.totalBytes + byteSize > this.options.maxTotalBytes) {
      throw serverError('SHM_OVER_LIMIT', name, `the registered regions would total ${this.totalBytes + byteSize} bytes, more than the limit of ${this.options.maxTotalBytes} (--client-shm-max-bytes)`);
    }
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.directory, objectName), OPEN_FLAGS);
    } catch (err) {
      // Neither the key nor the system's message (a path) is echoed: a key is a capability (who
      // knows it can have the server read and write that memory), and must not show up in logs.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw refuse('invalid args: no shared memory object exists under the given key');
      if (code === 'ELOOP') throw refuse('invalid args: the key names a symbolic link, not a shared memory object');
      if (code === 'EISDIR') throw refuse('invalid args: the key does not name a shared memory object');
      if (code === 'EACCES' || code === 'EPERM') throw refuse('the server may not open that shared memory object for reading and writing');
      throw refuse(`unable to open the shared memory object (${code ?? 'error'})`);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw refuse('invalid args: the key does not name a shared memory object');
      if (offset + byteSize > stat.size) {
        throw refuse(`invalid args: offset + byte_size is ${offset + byteSize}, past the end of the ${stat.size}-byte shared memory object`);
      }
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.regions.set(name, { status: Object.freeze({ name, key, offset, byteSize }), object: new SharedObject(fd, offset, byteSize) });
    this.totalBytes += byteSize;
  }

  /** Unregisters a region; an unknown name is no error (as in Triton). Leases keep working. */
  unregister(name: string): void {
    if (!this.options.allowed) throw serverError('SHM_DISABLED');
    this.drop(name);
  }

  /** Unregisters every region. */
  unregisterAll(): void {
    if (!this.options.allowed) throw serverError('SHM_DISABLED');
    for (const name of [...this.regions.keys()]) this.drop(name);
  }

  /** Unregisters every region whether or not client shared memory is allowed (server shutdown). */
  close(): void {
    for (const name of [...this.regions.keys()]) this.drop(name);
  }

  /** Every region's status, or the named one's (404 when it is not registered). */
  status(name?: string): RegionStatus[] {
    if (name === undefined) return [...this.regions.values()].map((r) => r.status);
    const region = this.regions.get(name);
    if (!region) throw serverError('SHM_STATUS_UNKNOWN', 'system', name);
    return [region.status];
  }

  /**
   * Takes a use of `byteSize` bytes at `offset` within region `name` (offset is relative to the
   * region's start). Release the lease when the request is answered.
   */
  lease(name: string, offset: number, byteSize: number): RegionLease {
    if (!this.options.allowed) throw serverError('SHM_DISABLED');
    const region = this.regions.get(name);
    if (!region) throw serverError('SHM_UNKNOWN_REGION', name);
    const size = region.status.byteSize;
    if (!isCount(offset) || offset > size || (offset === size && byteSize > 0)) throw serverError('SHM_BAD_OFFSET', name);
    if (!isCount(byteSize) || offset + byteSize > size) throw serverError('SHM_BAD_RANGE', name);
    return region.object.lease(name, offset, byteSize);
  }

  /** Regions registered now. */
  get size(): number {
    return this.regions.size;
  }

  /** Sum of the registered regions' byte sizes. */
  get registeredBytes(): number {
    return this.totalBytes;
  }

  private drop(name: string): void {
    const region = this.regions.get(name);
    if (!region) return;
    this.regions.delete(name);
    this.totalBytes -= region.status.byteSize;
    region.object.unref();
  }
}
