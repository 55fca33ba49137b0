import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCliOptions } from '../../src/cli/cli-options.ts';

describe('response cache flags', () => {
  const accepted: [string, string[], { kind: 'local'; sizeBytes: number } | null][] = [
    ['no cache by default', [], null],
    ["Triton's --cache-config=local,size=BYTES", ['--cache-config=local,size=1048576'], { kind: 'local', sizeBytes: 1048576 }],
    ['the flag and its value apart', ['--cache-config', 'local,size=4096'], { kind: 'local', sizeBytes: 4096 }],
    ['the setting given in two flags, the last one winning', ['--cache-config=local,size=10', '--cache-config=local,size=20'], { kind: 'local', sizeBytes: 20 }],
    ['the older --response-cache-byte-size', ['--response-cache-byte-size=8192'], { kind: 'local', sizeBytes: 8192 }],
    ['--response-cache-byte-size=0 as no cache', ['--response-cache-byte-size=0'], null],
  ];
  for (const [title, argv, expected] of accepted) {
    test(`accepts ${title}`, () => assert.deepEqual(parseCliOptions(argv).responseCache, expected));
  }

  const refused: [string, string[], RegExp][] = [
    ['a cache other than local', ['--cache-config=redis,host=localhost'], /--cache-config: cache 'redis' is not available; Nereid has the 'local' cache$/],
    ['a setting local does not have', ['--cache-config=local,size=10,ttl=5'], /the local cache has no setting 'ttl'/],
    ['no size', ['--cache-config=local,enable=true'], /has no setting 'enable'/],
    ['a value without key=value', ['--cache-config=local'], /must be <cache>,<key>=<value> \(got 'local'\)/],
    ['a size that is not a number of bytes', ['--cache-config=local,size=1MB'], /--cache-config size must be a number of bytes \(got '1MB'\)/],
    ['a size of 0', ['--cache-config=local,size=0'], /the local cache size must be more than 0 bytes/],
    ['two caches', ['--cache-config=local,size=10', '--cache-config=other,size=10'], /only a single cache is supported/],
    ['both forms at once', ['--cache-config=local,size=10', '--response-cache-byte-size=10'], /cannot both be given/],
  ];
  for (const [title, argv, message] of refused) {
    test(`refuses ${title}`, () => assert.throws(() => parseCliOptions(argv), message));
  }
});
