/**
 * `dynamic_batching` and its queue policies, normalized and checked (Triton's fields and
 * defaults: no preferred sizes, no queue delay, one priority level, REJECT, no timeout, no
 * queue limit).
 */
import { serverError } from '../errors.ts';
import type { RawConfig } from './model-config.ts';

export interface QueuePolicy {
  readonly timeoutAction: 'REJECT' | 'DELAY';
  /** 0: requests never time out unless they ask to. */
  readonly defaultTimeoutUs: number;
  readonly allowTimeoutOverride: boolean;
  /** 0: unlimited. */
  readonly maxQueueSize: number;
}

export interface DynamicBatching {
  /** Ascending, each within 1..max_batch_size. */
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayUs: number;
  readonly preserveOrdering: boolean;
  /** 0 or 1: one queue. N > 1: levels 1 (highest) to N. */
  readonly priorityLevels: number;
  readonly defaultPriorityLevel: number;
  readonly defaultQueuePolicy: QueuePolicy;
  /** Per level, where it differs from the default policy. */
  readonly priorityQueuePolicy: ReadonlyMap<number, QueuePolicy>;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export function normalizeDynamicBatching(model: string, raw: RawConfig, maxBatchSize: number): DynamicBatching {
  const fail = (what: string): never => {
    throw serverError('BAD_CONFIG', `model '${model}': dynamic_batching.${what}`);
  };
  if (maxBatchSize === 0) throw serverError('BAD_CONFIG', `model '${model}': dynamic_batching needs max_batch_size > 0`);
  const preferred: number[] = raw.preferred_batch_size ?? [];
  for (const size of preferred) {
    if (!isInt(size) || size < 1 || size > maxBatchSize) {
      fail(`preferred_batch_size ${size} must be between 1 and max_batch_size ${maxBatchSize}`);
    }
  }
  const delay = raw.max_queue_delay_microseconds ?? 0;
  if (!isInt(delay) || delay < 0) fail('max_queue_delay_microseconds must be a non-negative integer');
  const levels = raw.priority_levels ?? 0;
  if (!isInt(levels) || levels < 0) fail('priority_levels must be a non-negative integer');
  let defaultLevel = raw.default_priority_level ?? 0;
  if (levels > 1) {
    if (defaultLevel === 0) defaultLevel = levels; // Triton needs it set; the lowest level is the safe reading
    if (!isInt(defaultLevel) || defaultLevel < 1 || defaultLevel > levels) {
      fail(`default_priority_level ${defaultLevel} must be between 1 and priority_levels ${levels}`);
    }
  }
  const policy = (p: RawConfig | undefined, where: string): QueuePolicy => {
    const action = p?.timeout_action ?? 'REJECT';
    if (action !== 'REJECT' && action !== 'DELAY') fail(`${where}.timeout_action must be REJECT or DELAY`);
    const timeout = p?.default_timeout_microseconds ?? 0;
    if (!isInt(timeout) || timeout < 0) fail(`${where}.default_timeout_microseconds must be a non-negative integer`);
    const size = p?.max_queue_size ?? 0;
    if (!isInt(size) || size < 0) fail(`${where}.max_queue_size must be a non-negative integer`);
    return { timeoutAction: action, defaultTimeoutUs: timeout, allowTimeoutOverride: Boolean(p?.allow_timeout_override), maxQueueSize: size };
  };
  const defaultQueuePolicy = policy(raw.default_queue_policy, 'default_queue_policy');
  const perLevel = new Map<number, QueuePolicy>();
  for (const [key, value] of Object.entries((raw.priority_queue_policy ?? {}) as Record<string, RawConfig>)) {
    const level = Number(key);
    if (!Number.isInteger(level) || level < 1 || level > Math.max(1, levels)) {
      fail(`priority_queue_policy key ${key} must be a priority level between 1 and priority_levels ${levels}`);
    }
    perLevel.set(level, policy(value, `priority_queue_policy[${key}]`));
  }
  return {
    preferredBatchSizes: [...new Set(preferred)].sort((a, b) => a - b),
    maxQueueDelayUs: delay,
    preserveOrdering: Boolean(raw.preserve_ordering),
    priorityLevels: levels,
    defaultPriorityLevel: levels > 1 ? defaultLevel : 1,
    defaultQueuePolicy,
    priorityQueuePolicy: perLevel,
  };
}
