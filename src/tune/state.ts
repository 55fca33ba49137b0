/**
 * The resumable state file: what a run has measured so far, keyed by candidate, with the
 * settings it measured under. A run that finds a state file with the same settings skips the
 * candidates already measured; different settings (another model, budget or load) start afresh,
 * since their figures would not compare.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const STATE_VERSION = 1;

export interface TuneState<R> {
  readonly version: number;
  /** The settings that make figures comparable (model, load, windows, budget...), as JSON. */
  readonly settings: string;
  /** Candidate key → its result, in the order measured. */
  readonly results: Record<string, R>;
}

/** The state in `file` when it was written under the same settings; otherwise a fresh one. */
export function loadState<R>(file: string, settings: string): { state: TuneState<R>; resumed: boolean } {
  if (existsSync(file)) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<TuneState<R>>;
    if (raw.version === STATE_VERSION && raw.settings === settings && raw.results && typeof raw.results === 'object') {
      return { state: { version: STATE_VERSION, settings, results: { ...raw.results } }, resumed: true };
    }
  }
  return { state: { version: STATE_VERSION, settings, results: {} }, resumed: false };
}

/** Records one result and writes the file whole (a temporary file renamed over it: an interrupted write leaves the last good state). */
export function saveResult<R>(file: string, state: TuneState<R>, key: string, result: R): TuneState<R> {
  const next: TuneState<R> = { ...state, results: { ...state.results, [key]: result } };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return next;
}
