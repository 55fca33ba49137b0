/**
 * The request parameters that only a sequence model takes (`sequence_id`, `sequence_start`,
 * `sequence_end`), refused on any other model. Triton accepts and ignores them there; Nereid
 * refuses, so that a client that believes it is running a sequence learns it is not. The values
 * that mean "no sequence" (an id of 0 or "", a flag of false) are accepted, as Triton's clients
 * may send them.
 */
import { serverError } from '../errors.ts';
import type { ModelConfig } from '../model-config/index.ts';

const kSequenceParameters = ['sequence_id', 'sequence_start', 'sequence_end'] as const;

const meansNoSequence = (value: unknown): boolean => value === undefined || value === 0 || value === 0n || value === '' || value === false;

/** Throws when `parameters` carry a sequence for a model without sequence_batching. */
export function checkSequenceParameters(config: ModelConfig, parameters: Readonly<Record<string, unknown>>): void {
  if (config.sequenceBatching !== null) return;
  for (const key of kSequenceParameters) {
    if (!meansNoSequence(parameters[key])) throw serverError('SEQUENCE_PARAMETER', config.name, key);
  }
}
