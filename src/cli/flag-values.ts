/**
 * Readers for one flag's text, shared by the flag groups: each returns the default when the
 * flag is absent and throws a TypeError/RangeError whose message names the flag.
 */

/** The parsed flags, as node:util parseArgs returns them (every value a string). */
export type FlagValues = Record<string, unknown>;

/** An integer flag of at least `min`. */
export function integer(values: FlagValues, flag: string, fallback: number, min: number): number {
  const text = values[flag] as string | undefined;
  if (text === undefined) return fallback;
  // Decimal digits only: Number() alone would also take '0x50', '1e3' and ' '.
  const n = Number(text);
  if (!/^-?[0-9]+$/.test(text) || !Number.isSafeInteger(n)) throw new TypeError(`--${flag} must be an integer (got '${text}')`);
  if (n < min) throw new RangeError(`--${flag} must be at least ${min} (got ${n})`);
  return n;
}

/** A port number; 0 asks for a free port. */
export function port(values: FlagValues, flag: string, fallback: number): number {
  const n = integer(values, flag, fallback, 0);
  if (n > 65535) throw new RangeError(`--${flag} must be a port number from 0 to 65535 (got ${n})`);
  return n;
}

/** A boolean flag: true/false, 1/0, on/off, yes/no. */
export function bool(values: FlagValues, flag: string, fallback: boolean): boolean {
  const text = values[flag] as string | undefined;
  if (text === undefined) return fallback;
  if (/^(true|1|on|yes)$/i.test(text)) return true;
  if (/^(false|0|off|no)$/i.test(text)) return false;
  throw new TypeError(`--${flag} must be true or false (got '${text}')`);
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(values: FlagValues, flag: string, fallback: T, allowed: readonly T[]): T {
  const text = values[flag] as string | undefined;
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new TypeError(`--${flag} must be one of ${allowed.join(', ')} (got '${text}')`);
  }
  return text as T;
}

/** A non-empty string, or the fallback when absent. */
export function text(values: FlagValues, flag: string, fallback: string | null): string | null {
  const value = values[flag] as string | undefined;
  if (value === undefined) return fallback;
  if (value.trim() === '') throw new TypeError(`--${flag} must not be empty`);
  return value;
}
