import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ServerError } from '../../src/errors.ts';
import { ClientRegions, openSharedObjects, shmObjectName } from '../../src/shm/index.ts';
import { makeShmObject, readShm, removeAll, SHM_DIR, track, uniqueShmName } from '../helpers/shm.ts';

const allowed = (maxTotalBytes = 1 << 20) => new ClientRegions({ allowed: true, maxTotalBytes });

/** Asserts that `fn` throws a ServerError with `reason`, status and a message matching `message`. */
function refuses(fn: () => unknown, reason: string, status: number, message: RegExp): ServerError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ServerError, `expected a ServerError, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  assert.equal(caught.httpStatus, status, caught.message);
  assert.match(caught.message, message);
  return caught;
}

after(removeAll);

describe('shared memory keys', () => {
  test('are one plain name, with its POSIX leading slash dropped', () => {
    assert.equal(shmObjectName('/input0'), 'input0');
    assert.equal(shmObjectName('input0'), 'input0');
    assert.equal(shmObjectName('/a.b-c_d'), 'a.b-c_d');
  });

  const badKeys = ['', '/', '//x', 'a/b', '/a/b', '.', '/.', '..', '/..', 'a..b', '/../etc/passwd', 'x\u0000y', 'tab\there', 'k'.repeat(256)];
  for (const key of badKeys) {
    test(`refuse ${JSON.stringify(key.length > 20 ? `${key.slice(0, 8)}… (${key.length} chars)` : key)} without echoing it`, () => {
      assert.equal(shmObjectName(key), null);
      const err = refuses(() => allowed().register('r', key, 0, 8), 'SHM_BAD_REGISTER', 400, /failed to register shared memory region 'r': invalid args: the key must be one plain name/);
      if (key.length > 2) assert.ok(!err.message.includes(key), err.message);
    });
  }
});

describe('registering a region', () => {
  test('lists it in the status, alone or among all, with the key as the client gave it', () => {
    const a = makeShmObject(64);
    const b = makeShmObject(64);
    const regions = allowed();
    regions.register('a', a.key, 0, 64);
    regions.register('b', b.key.slice(1), 16, 32);
    assert.deepEqual(regions.status('b'), [{ name: 'b', key: b.key.slice(1), offset: 16, byteSize: 32 }]);
    assert.deepEqual(regions.status().map((r) => r.name).sort(), ['a', 'b']);
    assert.equal(regions.registeredBytes, 96);
    refuses(() => regions.status('c'), 'SHM_STATUS_UNKNOWN', 404, /^Unable to find system shared memory region: 'c'$/);
    regions.close();
  });

  test('refuses an object that does not exist', () => {
    refuses(() => allowed().register('r', `/${uniqueShmName('missing')}`, 0, 8), 'SHM_BAD_REGISTER', 400, /invalid args: no shared memory object exists under the given key$/);
  });

  test('refuses a symbolic link, even to another shared memory object', () => {
    const target = makeShmObject(64);
    const link = uniqueShmName('link');
    fs.symlinkSync(target.path, track(path.join(SHM_DIR, link)));
    refuses(() => allowed().register('r', `/${link}`, 0, 8), 'SHM_BAD_REGISTER', 400, /symbolic link/);
    assert.equal(openSharedObjects(), 0);
  });

  test('refuses a directory, and a FIFO without blocking on it', () => {
    const dir = uniqueShmName('dir');
    fs.mkdirSync(track(path.join(SHM_DIR, dir)));
    refuses(() => allowed().register('r', `/${dir}`, 0, 8), 'SHM_BAD_REGISTER', 400, /does not name a shared memory object/);
    const fifo = uniqueShmName('fifo');
    execFileSync('mkfifo', [track(path.join(SHM_DIR, fifo))]);
    refuses(() => allowed().register('r', `/${fifo}`, 0, 8), 'SHM_BAD_REGISTER', 400, /does not name a shared memory object/);
    assert.equal(openSharedObjects(), 0);
  });

  // Triton's four edge cases: the object's real size (fstat) bounds offset + byte_size.
  for (const [offset, byteSize] of [[0, 65], [1, 64], [64, 1], [65, 0]]) {
    test(`refuses offset ${offset} + byte_size ${byteSize} past the end of a 64-byte object`, () => {
      const o = makeShmObject(64);
      refuses(() => allowed().register('r', o.key, offset, byteSize), 'SHM_BAD_REGISTER', 400, /failed to register shared memory region 'r': invalid args/);
      assert.equal(openSharedObjects(), 0, 'the descriptor opened for the check is closed');
    });
  }

  test('takes a region that ends exactly at the end of the object', () => {
    const o = makeShmObject(64);
    const regions = allowed();
    regions.register('r', o.key, 60, 4);
    assert.equal(regions.size, 1);
    regions.close();
  });

  for (const [what, offset, byteSize] of [['a negative offset', -1, 8], ['a fractional byte_size', 0, 1.5], ['a byte_size of 0', 0, 0], ['a NaN offset', NaN, 8]] as const) {
    test(`refuses ${what}`, () => {
      const o = makeShmObject(64);
      refuses(() => allowed().register('r', o.key, offset, byteSize), 'SHM_BAD_REGISTER', 400, /invalid args: (offset and byte_size must be non-negative integers|byte_size must be at least 1)/);
    });
  }

  test('refuses a name already registered and keeps the first registration', () => {
    const a = makeShmObject(64);
    const b = makeShmObject(128);
    const regions = allowed();
    regions.register('r', a.key, 0, 64);
    const err = refuses(() => regions.register('r', b.key, 0, 128), 'SHM_ALREADY_REGISTERED', 400, /^shared memory region 'r' already in manager$/);
    assert.ok(!err.message.includes(a.key) && !err.message.includes(b.key));
    assert.deepEqual(regions.status('r'), [{ name: 'r', key: a.key, offset: 0, byteSize: 64 }]);
    regions.close();
  });

  test('refuses an empty region name', () => {
    const o = makeShmObject(8);
    refuses(() => allowed().register('', o.key, 0, 8), 'BAD_REQUEST', 400, /region name must be 1 to 255 characters/);
  });

  test('refuses a region that would take the total past the limit, with 413 naming the flag', () => {
    const o = makeShmObject(4096);
    const regions = allowed(4096);
    regions.register('a', o.key, 0, 4000);
    refuses(() => regions.register('b', o.key, 0, 97), 'SHM_OVER_LIMIT', 413, /total 4097 bytes, more than the limit of 4096 \(--client-shm-max-bytes\)/);
    regions.register('b', o.key, 0, 96);
    regions.unregister('a');
    regions.register('c', o.key, 0, 4000);
    assert.equal(regions.registeredBytes, 4096);
    regions.close();
  });
});

describe('without --allow-client-shm', () => {
  test('refuses register, unregister and use with a message naming the flag, and lists nothing', () => {
    const o = makeShmObject(64);
    const regions = new ClientRegions({ allowed: false, maxTotalBytes: 1 << 20 });
    const flag = /^Client shared memory is disabled\. Start the server with '--allow-client-shm=true' to enable\.$/;
    refuses(() => regions.register('r', o.key, 0, 64), 'SHM_DISABLED', 501, flag);
    refuses(() => regions.unregister('r'), 'SHM_DISABLED', 501, flag);
    refuses(() => regions.unregisterAll(), 'SHM_DISABLED', 501, flag);
    refuses(() => regions.lease('r', 0, 8), 'SHM_DISABLED', 501, flag);
    assert.deepEqual(regions.status(), []);
    assert.equal(openSharedObjects(), 0);
  });
});
