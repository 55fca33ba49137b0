import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inertFields } from '../../src/model-config/inert-fields.ts';
import type { RawConfig } from '../../src/model-config/model-config.ts';

const tensor = (name: string, fields: RawConfig = {}) => ({ name, data_type: 'TYPE_INT32', dims: [16], ...fields });

describe('inertFields names the config fields Nereid parses but does not act on', () => {
  const cases: [string, RawConfig, string[]][] = [
    ['nothing for a config of fields that all act', {
      name: 'm', max_batch_size: 8, input: [tensor('INPUT0', { optional: true })], output: [tensor('OUTPUT0')],
      dynamic_batching: { preferred_batch_size: [4] }, instance_group: [{ name: 'g', kind: 'KIND_CPU', count: 2 }],
      parameters: { intra_op_thread_count: { string_value: '1' } },
    }, []],
    ['nothing for fields set to their defaults', {
      name: 'm', input: [tensor('INPUT0', { allow_ragged_batch: false, format: 'FORMAT_NONE' })],
      model_transaction_policy: { decoupled: false }, instance_group: [{ passive: false, profile: [] }],
    }, []],
    ['top-level fields', { name: 'm', model_warmup: [{ name: 'w', batch_size: 1 }], metric_tags: { a: 'b' }, model_transaction_policy: { decoupled: true } },
      ['metric_tags', 'model_transaction_policy']],
    ['fields of inputs, outputs and instance groups, by name', {
      name: 'm', input: [tensor('INPUT0', { allow_ragged_batch: true }), tensor('INPUT1', { format: 'FORMAT_NCHW' })],
      output: [tensor('OUTPUT0', { is_shape_tensor: true })], instance_group: [{ kind: 'KIND_CPU', rate_limiter: { priority: 2 } }],
    }, ['input[INPUT0].allow_ragged_batch', 'output[OUTPUT0].is_shape_tensor', 'instance_group[0].rate_limiter']],
    ['parameters the backend does not read', { name: 'm', parameters: { execution_mode: { string_value: '1' }, inter_op_thread_count: { string_value: '2' } } },
      ['parameters.execution_mode']],
  ];
  for (const [title, raw, expected] of cases) {
    test(title, () => assert.deepEqual(inertFields(raw), expected));
  }
});
