/**
 * Client-side system shared memory, for clients on the server's host: a POSIX shared-memory
 * object (a file under /dev/shm, which is what shm_open makes on Linux) to write input tensors
 * into and read outputs back from. Register it with `HttpClient.registerSystemSharedMemory`, name
 * its ranges in `infer`, and unregister it before `destroy`.
 *
 * Node cannot map memory, so this uses positioned reads and writes on the object, which cost one
 * copy each way, like Triton's Python client's copy into its mapping.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeBytesElements } from '../bytes-elements.ts';
import { datatypeFromWire, elementCount } from '../dtypes.ts';
import { tensorBytes, type ClientTensor, type SharedMemoryRef } from './http-client.ts';

/** The directory where Linux keeps POSIX shared-memory objects. */
export const SHM_DIRECTORY = '/dev/shm';

export class SharedMemoryRegion {
  private fd: number;

  private constructor(
    /** The POSIX key, '/name': what the server's register call takes. */
    readonly key: string,
    readonly byteSize: number,
    /** The object's file. */
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Creates a shared-memory object of `byteSize` zero bytes under `key` ('/name' or 'name'),
   * readable and writable by this user only. Fails if the object exists already.
   */
  static create(key: string, byteSize: number, directory = SHM_DIRECTORY): SharedMemoryRegion {
    const name = key.startsWith('/') ? key.slice(1) : key;
    if (name === '' || name.includes('/')) throw new TypeError(`a shared memory key is one name such as '/input0' (got '${key}')`);
    if (!Number.isSafeInteger(byteSize) || byteSize < 1) throw new RangeError(`byteSize must be a positive integer (got ${byteSize})`);
    const file = path.join(directory, name);
    const fd = fs.openSync(file, 'wx+', 0o600);
    try {
      fs.ftruncateSync(fd, byteSize);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
      throw err;
    }
    return new SharedMemoryRegion(`/${name}`, byteSize, file, fd);
  }

  /** Writes raw bytes at `offset`. */
  write(bytes: Uint8Array, offset = 0): void {
    this.check(offset, bytes.length);
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
  }

  /**
   * Writes a tensor's bytes at `offset` (numbers little-endian, BYTES as 4-byte lengths and
   * bytes) and returns the reference to put in a request: this region registered as `region`.
   */
  writeTensor(tensor: Pick<ClientTensor, 'datatype' | 'data'>, region: string, offset = 0): SharedMemoryRef {
    const bytes = tensorBytes({ name: '', shape: [], ...tensor });
    this.write(bytes, offset);
    return { region, byteSize: bytes.length, offset };
  }

  /** Reads `length` bytes at `offset` into a new buffer. */
  read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    this.readInto(out, offset);
    return out;
  }

  /** Fills `target` with the bytes at `offset`: a loop can reuse one buffer instead of allocating. */
  readInto(target: Uint8Array, offset = 0): void {
    this.check(offset, target.length);
    let done = 0;
    while (done < target.length) {
      const n = fs.readSync(this.fd, target, done, target.length - done, offset + done);
      if (n === 0) throw new Error('the shared memory object is shorter than expected');
      done += n;
    }
  }

  /**
   * Reads a tensor the server wrote at `offset`: a typed array of its datatype, or strings for
   * BYTES, whose length is the output's shared_memory_byte_size from the response.
   */
  readTensor(datatype: string, shape: readonly number[], offset = 0, byteSize?: number): ArrayBufferView | string[] {
    const dt = datatypeFromWire(datatype);
    if (!dt) throw new TypeError(`unknown datatype '${datatype}'`);
    const count = elementCount(shape);
    if (dt.wire === 'BYTES') {
      if (byteSize === undefined) throw new TypeError('reading BYTES needs the byte size the server reported');
      return decodeBytesElements(this.read(offset, byteSize), count, 'output', 'lossy');
    }
    const bytes = this.read(offset, count * dt.byteSize);
    return new dt.array!(bytes.buffer, bytes.byteOffset, count);
  }

  /** Closes and removes the object. Unregister it first: the server holds it until then. */
  destroy(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.path, { force: true });
  }

  private check(offset: number, length: number): void {
    if (this.fd < 0) throw new Error('the shared memory region was destroyed');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.byteSize) {
      throw new RangeError(`${length} bytes at offset ${offset} do not fit in the ${this.byteSize}-byte region`);
    }
  }
}
