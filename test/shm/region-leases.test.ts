import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, test } from 'node:test';
import { ServerError } from '../../src/errors.ts';
import { ClientRegions, openSharedObjects } from '../../src/shm/index.ts';
import { makeShmObject, readShm, removeAll } from '../helpers/shm.ts';

const regionsOf = () => new ClientRegions({ allowed: true, maxTotalBytes: 1 << 20 });
const bytes = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 255);

function refuses(fn: () => unknown, reason: string, status: number, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ServerError, String(err));
    assert.equal(err.reason, reason, err.message);
    assert.equal(err.httpStatus, status);
    assert.match(err.message, message);
    return true;
  });
}

after(removeAll);

describe('leases on a region', () => {
  test('read and write at offsets relative to the region, which starts inside the object', () => {
    const o = makeShmObject(256, bytes(256));
    const regions = regionsOf();
    regions.register('r', o.key, 64, 128);
    const lease = regions.lease('r', 16, 32);
    const got = new Uint8Array(32);
    lease.read(got);
    assert.deepEqual(got, bytes(32, 80));
    lease.write(new Uint8Array(8).fill(7));
    assert.deepEqual([...readShm(o, 80, 9)], [7, 7, 7, 7, 7, 7, 7, 7, 88]);
    lease.release();
    regions.close();
    assert.equal(openSharedObjects(), 0);
  });

  test('read straight into memory shared between threads (the tensor plane)', () => {
    const o = makeShmObject(64, bytes(64));
    const regions = regionsOf();
    regions.register('r', o.key, 0, 64);
    const slot = new Uint8Array(new SharedArrayBuffer(128), 32, 64);
    const lease = regions.lease('r', 0, 64);
    lease.read(slot);
    assert.deepEqual(new Uint8Array(slot), bytes(64));
    lease.release();
    regions.close();
  });

  test('refuse an unknown region, an offset past the region and a range past its end', () => {
    const o = makeShmObject(64);
    const regions = regionsOf();
    regions.register('r', o.key, 0, 32);
    refuses(() => regions.lease('nope', 0, 4), 'SHM_UNKNOWN_REGION', 404, /^Unable to find shared memory region: 'nope'$/);
    refuses(() => regions.lease('r', 33, 0), 'SHM_BAD_OFFSET', 400, /^Invalid offset for shared memory region: 'r'$/);
    refuses(() => regions.lease('r', 32, 1), 'SHM_BAD_OFFSET', 400, /Invalid offset for shared memory region/);
    refuses(() => regions.lease('r', 16, 17), 'SHM_BAD_RANGE', 400, /^Invalid offset \+ byte size for shared memory region: 'r'$/);
    refuses(() => regions.lease('r', 0, 2 ** 60), 'SHM_BAD_RANGE', 400, /Invalid offset \+ byte size/);
    regions.lease('r', 16, 16).release();
    regions.close();
  });

  test('never read or write past the leased range', () => {
    const o = makeShmObject(64);
    const regions = regionsOf();
    regions.register('r', o.key, 0, 64);
    const lease = regions.lease('r', 0, 8);
    assert.throws(() => lease.write(new Uint8Array(9)), RangeError);
    assert.throws(() => lease.read(new Uint8Array(16)), RangeError);
    assert.deepEqual([...readShm(o)], new Array(64).fill(0), 'nothing was written');
    lease.release();
    regions.close();
  });

  test('refuse every read and write once released', () => {
    const o = makeShmObject(64);
    const regions = regionsOf();
    regions.register('r', o.key, 0, 64);
    const lease = regions.lease('r', 0, 8);
    lease.release();
    lease.release();
    assert.equal(lease.released, true);
    assert.throws(() => lease.read(new Uint8Array(8)), /used after release/);
    assert.throws(() => lease.write(new Uint8Array(8)), /used after release/);
    regions.close();
  });
});

describe('unregistering a region in use', () => {
  test('lets the leases finish with its data, frees the name at once, and closes the object after the last lease', () => {
    const o = makeShmObject(64, bytes(64));
    const regions = regionsOf();
    regions.register('r', o.key, 0, 64);
    const first = regions.lease('r', 0, 16);
    const second = regions.lease('r', 16, 16);
    regions.unregister('r');
    assert.deepEqual(regions.status(), []);
    assert.throws(() => regions.lease('r', 0, 16), /Unable to find shared memory region: 'r'/);
    assert.equal(openSharedObjects(), 1, 'still open for the leases');

    const got = new Uint8Array(16);
    first.read(got);
    assert.deepEqual(got, bytes(16));
    first.release();
    assert.equal(openSharedObjects(), 1);

    regions.register('r', o.key, 0, 8);
    assert.equal(openSharedObjects(), 2, 'the new registration has its own descriptor');
    second.write(new Uint8Array(16).fill(9));
    second.release();
    assert.equal(openSharedObjects(), 1, 'the old descriptor closed with its last lease');
    assert.deepEqual([...readShm(o, 16, 16)], new Array(16).fill(9));
    regions.unregisterAll();
    assert.equal(openSharedObjects(), 0);
  });

  test('unregistering an unknown name is no error', () => {
    const regions = regionsOf();
    regions.unregister('never-registered');
    regions.unregisterAll();
  });
});

describe('an object shrunk by its client after registration', () => {
  test('is refused when leased, and fails a read cleanly when it shrinks under a lease', () => {
    const o = makeShmObject(64, bytes(64));
    const regions = regionsOf();
    regions.register('r', o.key, 0, 64);
    const lease = regions.lease('r', 32, 32);
    fs.truncateSync(o.path, 40);
    refuses(() => regions.lease('r', 32, 32), 'SHM_IO_FAILED', 400, /^shared memory region 'r' could not be used: the shared memory object is now smaller than the registered region$/);
    regions.lease('r', 0, 32).release();
    refuses(() => lease.read(new Uint8Array(32)), 'SHM_IO_FAILED', 400, /could not be read: the shared memory object is now smaller/);
    lease.release();
    regions.close();
    assert.equal(openSharedObjects(), 0);
  });
});

describe('error messages', () => {
  test("never name another region's key", () => {
    const secret = makeShmObject(64, undefined, 'secret');
    const regions = regionsOf();
    regions.register('theirs', secret.key, 0, 64);
    const messages: string[] = [];
    const collect = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        messages.push((err as Error).message);
      }
    };
    collect(() => regions.register('theirs', makeShmObject(8).key, 0, 8));
    collect(() => regions.lease('theirs', 0, 65));
    collect(() => regions.lease('theirs', 65, 0));
    collect(() => regions.lease('other', 0, 1));
    collect(() => regions.status('other'));
    fs.truncateSync(secret.path, 8);
    collect(() => regions.lease('theirs', 0, 64));
    assert.equal(messages.length, 6);
    for (const m of messages) assert.ok(!m.includes(secret.key.slice(1)), m);
    regions.close();
  });
});
