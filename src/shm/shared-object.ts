/**
 * One registered range of a POSIX shared-memory object, held open by a file descriptor, and the
 * leases through which requests read and write it. Every read and write is bounds-checked twice:
 * by the registry against the registered range (with Triton's messages), and here against the
 * lease, so no caller can reach past what it leased.
 */
import fs from 'node:fs';
import { serverError } from '../errors.ts';
import { readFully, writeFully, type FileRange } from './file-range.ts';

let openDescriptors = 0;

/** Descriptors of shared-memory objects open now, in this process (tests read it). */
export function openSharedObjects(): number {
  return openDescriptors;
}

/** Owned by the registry; see client-regions.ts for the reference counting. */
export class SharedObject {
  /** The registration's reference plus one per live lease. */
  private refs = 1;
  /** -1 once closed. */
  private fd: number;

  /** Takes ownership of `fd`; `base` and `byteSize` place the region in the object, in bytes. */
  constructor(fd: number, readonly base: number, readonly byteSize: number) {
    this.fd = fd;
    openDescriptors++;
  }

  /** A use of `byteSize` bytes at `offset` in the region (already checked against the region). */
  lease(region: string, offset: number, byteSize: number): RegionLease {
    if (this.fd < 0) throw new Error('shared memory object leased after it was closed');
    // The client may have shrunk its object since it registered it. fstat is one system call, and
    // refusing here answers 400 before the request is queued instead of failing it in its batch.
    if (fs.fstatSync(this.fd).size < this.base + offset + byteSize) {
      throw serverError('SHM_IO_FAILED', region, 'used', 'the shared memory object is now smaller than the registered region');
    }
    this.refs++;
    return new RegionLease(this, region, offset, byteSize);
  }

  /** Drops a reference; the last one closes the descriptor. */
  unref(): void {
    if (--this.refs > 0) return;
    const fd = this.fd;
    this.fd = -1;
    openDescriptors--;
    fs.closeSync(fd);
  }

  /** Fills `target` from `offset` in the region. Only a live lease calls this (so fd is open). */
  readAt(region: string, target: Uint8Array, offset: number): void {
    const failure = readFully(this.fd, target, this.base + offset);
    if (failure !== null) throw serverError('SHM_IO_FAILED', region, 'read', failure);
  }

  /** Writes `source` at `offset` in the region. Only a live lease calls this (so fd is open). */
  writeAt(region: string, source: Uint8Array, offset: number): void {
    const failure = writeFully(this.fd, source, this.base + offset);
    if (failure !== null) throw serverError('SHM_IO_FAILED', region, 'written', failure);
  }

  /** `byteSize` bytes at `offset` in the region, as the object's descriptor and position. */
  rangeAt(offset: number, byteSize: number): FileRange {
    return { fd: this.fd, position: this.base + offset, byteLength: byteSize };
  }
}

/**
 * One request's use of a range of a region. It keeps the object's descriptor open until released,
 * even if the region is unregistered meanwhile; after release it refuses every read and write.
 */
export class RegionLease {
  private live = true;

  /** Made by SharedObject.lease; `offset` is relative to the region's start. */
  constructor(private readonly object: SharedObject, readonly region: string, readonly offset: number, readonly byteSize: number) {}

  /** Reads the leased bytes into `target`, which must be exactly `byteSize` long. */
  read(target: Uint8Array): void {
    this.check(target.length === this.byteSize, 'read into a buffer of another size');
    this.object.readAt(this.region, target, this.offset);
  }

  /** Writes `source` (at most `byteSize` bytes) at the start of the leased range. */
  write(source: Uint8Array): void {
    this.check(source.length <= this.byteSize, 'written past its end');
    this.object.writeAt(this.region, source, this.offset);
  }

  /**
   * The leased range as the object's descriptor and position, for a worker thread to pread or
   * pwrite itself. The descriptor stays valid until this lease is released: release it only once
   * the batch that uses the range has settled (answered, failed, or its worker gone).
   */
  get file(): FileRange {
    this.check(true, '');
    return this.object.rangeAt(this.offset, this.byteSize);
  }

  /** Ends the use; idempotent. */
  release(): void {
    if (!this.live) return;
    this.live = false;
    this.object.unref();
  }

  get released(): boolean {
    return !this.live;
  }

  private check(sizeOk: boolean, what: string): void {
    // Programming errors, not client errors: they surface as 500 and are logged.
    if (!this.live) throw new Error(`shared memory lease of region '${this.region}' used after release`);
    if (!sizeOk) throw new RangeError(`shared memory lease of region '${this.region}' ${what}`);
  }
}
