import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServerError } from '../../../src/errors.ts';
import { logSettingsFromGrpc, logSettingsToGrpc, traceSettingFromGrpc, traceSettingToGrpc } from '../../../src/api/grpc/grpc-settings.ts';
import { LogSettings } from '../../../src/observability/log-settings.ts';
import { DEFAULT_LOG_OPTIONS } from '../../../src/cli/observability-options.ts';
import { TraceManager } from '../../../src/observability/trace-manager.ts';

describe('gRPC LogSettings messages', () => {
  test('become the logging extension body and back, through the same settings', () => {
    const settings = new LogSettings(DEFAULT_LOG_OPTIONS, 0);
    const body = logSettingsFromGrpc({
      log_info: { parameter_choice: 'bool_param', bool_param: false },
      log_verbose_level: { uint32_param: 2 },
      log_format: { parameter_choice: 'string_param', string_param: 'ISO8601' },
    });
    assert.deepEqual(body, { log_info: false, log_verbose_level: 2, log_format: 'ISO8601' });
    assert.deepEqual(logSettingsToGrpc(settings.update(body)), {
      log_file: { string_param: '' },
      log_info: { bool_param: false },
      log_warning: { bool_param: true },
      log_error: { bool_param: true },
      log_verbose_level: { uint32_param: 2 },
      log_format: { string_param: 'ISO8601' },
    });
  });

  test('are refused with the logging extension\'s checks, or for a value with no member set', () => {
    const settings = new LogSettings(DEFAULT_LOG_OPTIONS, 0);
    assert.throws(() => settings.update(logSettingsFromGrpc({ log_info: { string_param: 'yes' } })), /'log_info' must be a boolean, got string/);
    assert.throws(() => logSettingsFromGrpc({ log_info: {} }), (err: ServerError) => err.httpStatus === 400 && /log setting 'log_info' has no value/.test(err.message));
  });
});

describe('gRPC TraceSetting messages', () => {
  test('keep the level list, take one value for the rest, and clear with an empty list', () => {
    assert.deepEqual(traceSettingFromGrpc({ trace_level: { value: ['TIMESTAMPS', 'TENSORS'] }, trace_rate: { value: ['10'] }, trace_count: { value: [] } }), {
      trace_level: ['TIMESTAMPS', 'TENSORS'], trace_rate: '10', trace_count: null,
    });
    assert.throws(() => traceSettingFromGrpc({ trace_rate: { value: ['1', '2'] } }), /trace setting 'trace_rate' takes one value, got 2/);
  });

  test('answer the setting in force as lists of strings', () => {
    const tracing = new TraceManager();
    assert.deepEqual(traceSettingToGrpc(tracing.update(traceSettingFromGrpc({ trace_rate: { value: ['5'] } }))), {
      trace_level: { value: ['OFF'] }, trace_rate: { value: ['5'] }, trace_count: { value: ['-1'] },
      log_frequency: { value: ['0'] }, trace_file: { value: [''] }, trace_mode: { value: ['triton'] },
    });
  });
});
