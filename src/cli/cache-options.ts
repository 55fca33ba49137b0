/**
 * The response cache's flags, as Triton's: `--cache-config=<cache>,<key>=<value>` (repeatable;
 * Nereid has the `local` cache, whose one key is `size`, in bytes) and the older
 * `--response-cache-byte-size=N`, which Triton turns into `local,size=N` (0: no cache).
 */
import type { FlagValues } from './flag-values.ts';

/** The server's response cache: an in-process LRU of at most `sizeBytes`. */
export interface CacheOptions {
  readonly kind: 'local';
  readonly sizeBytes: number;
}

export const CACHE_SPEC = {
  'cache-config': { type: 'string', multiple: true },
  'response-cache-byte-size': { type: 'string' },
} as const;

export const CACHE_USAGE = `
  --cache-config=local,size=BYTES  the response cache that models with response_cache { enable:
                                true } use: an LRU of at most BYTES in this process (default none)
  --response-cache-byte-size=BYTES  the older form of --cache-config=local,size=BYTES`;

/** The cache the flags ask for, or null for none. Throws a TypeError naming the flag. */
export function parseCacheOptions(values: FlagValues): CacheOptions | null {
  const configs = (values['cache-config'] as string[] | undefined) ?? [];
  const legacy = values['response-cache-byte-size'] as string | undefined;
  if (configs.length > 0 && legacy !== undefined) {
    throw new TypeError('--response-cache-byte-size and --cache-config cannot both be given; use --cache-config=local,size=BYTES');
  }
  if (legacy !== undefined) {
    const size = byteCount(legacy, '--response-cache-byte-size');
    return size === 0 ? null : Object.freeze({ kind: 'local', sizeBytes: size });
  }
  if (configs.length === 0) return null;
  const settings = new Map<string, string>();
  let cache: string | undefined;
  for (const text of configs) {
    const [name, ...pairs] = text.split(',');
    if (name === '' || pairs.length === 0) throw new TypeError(`--cache-config must be <cache>,<key>=<value> (got '${text}')`);
    if (cache !== undefined && name !== cache) throw new TypeError(`--cache-config: found configurations of caches '${cache}' and '${name}', but only a single cache is supported`);
    cache = name;
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new TypeError(`--cache-config must be <cache>,<key>=<value> (got '${text}')`);
      settings.set(pair.slice(0, at), pair.slice(at + 1));
    }
  }
  if (cache !== 'local') throw new TypeError(`--cache-config: cache '${cache}' is not available; Nereid has the 'local' cache`);
  for (const key of settings.keys()) {
    if (key !== 'size') throw new TypeError(`--cache-config: the local cache has no setting '${key}' (it takes size=BYTES)`);
  }
  const sizeText = settings.get('size');
  if (sizeText === undefined) throw new TypeError('--cache-config: the local cache needs size=BYTES');
  const size = byteCount(sizeText, '--cache-config size');
  if (size === 0) throw new RangeError('--cache-config: the local cache size must be more than 0 bytes');
  return Object.freeze({ kind: 'local', sizeBytes: size });
}

function byteCount(text: string, what: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n)) throw new TypeError(`${what} must be a number of bytes (got '${text}')`);
  return n;
}
