import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogSettings } from '../../src/observability/log-settings.ts';
import { createLogger, textLine } from '../../src/observability/logger.ts';
import { DEFAULT_LOG_OPTIONS } from '../../src/cli/observability-options.ts';
import { parseNvidiaSmi, procStatTicks } from '../../src/observability/system-monitor.ts';

/** A logger writing JSON lines into an array of parsed lines. */
function capture(verbose = 0) {
  const lines: { level: number; time: number | string; msg: string }[] = [];
  const settings = new LogSettings({ ...DEFAULT_LOG_OPTIONS, logFormat: 'json' }, verbose);
  const logger = createLogger(settings, { write: (s: string) => { lines.push(JSON.parse(s)); } });
  return { lines, settings, logger };
}

/** A logger writing raw lines (any format) into an array. */
function captureText(format: 'default' | 'ISO8601' | 'json') {
  const lines: string[] = [];
  const settings = new LogSettings({ ...DEFAULT_LOG_OPTIONS, logFormat: format }, 0);
  const logger = createLogger(settings, { write: (s: string) => { lines.push(s); } });
  return { lines, settings, logger };
}

describe('the logger', () => {
  test('writes structured info, warning and error lines, and debug lines only when verbose', () => {
    const { lines, settings, logger } = capture();
    logger.debug('hidden');
    logger.info('shown');
    logger.warn('warned');
    logger.error('failed');
    assert.deepEqual(lines.map((l) => [l.level, l.msg]), [[30, 'shown'], [40, 'warned'], [50, 'failed']]);
    settings.update({ log_verbose_level: 1 });
    logger.debug('now shown');
    logger.trace('still hidden');
    settings.update({ log_verbose_level: 2 });
    logger.trace('traced');
    assert.deepEqual(lines.slice(3).map((l) => l.msg), ['now shown', 'traced']);
  });

  test('drops info, warning or error lines whose switch is off, also in child loggers', () => {
    const { lines, settings, logger } = capture();
    settings.update({ log_info: false, log_warning: false });
    const child = logger.child({ reqId: 'r1' });
    child.info('no');
    logger.warn('no');
    child.error('yes');
    settings.update({ log_error: false });
    logger.fatal('no');
    assert.deepEqual(lines.map((l) => l.msg), ['yes']);
  });

  test("writes Triton's default lines unless told otherwise, and switches format at run time", () => {
    const { lines, settings, logger } = captureText('default');
    assert.equal(settings.format, DEFAULT_LOG_OPTIONS.logFormat);
    const server = logger.child({ component: 'server' });
    server.info('model ready');
    server.warn('careful');
    settings.update({ log_format: 'ISO8601' });
    server.error('broken');
    settings.update({ log_format: 'json' });
    server.info('as json');
    const pid = process.pid;
    assert.match(lines[0], new RegExp(`^I\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{6} ${pid} server\\] model ready\\n$`));
    assert.match(lines[1], new RegExp(`^W\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{6} ${pid} server\\] careful\\n$`));
    assert.match(lines[2], new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ E ${pid} server\\] broken\\n$`));
    const json = JSON.parse(lines[3]) as Record<string, unknown>;
    assert.deepEqual([json.level, json.component, json.msg, json.pid, typeof json.time], [30, 'server', 'as json', pid, 'number']);
  });

  test("formats a record's time, severity, fields and error as Triton's text lines, one line each", () => {
    // 2026-12-06T03:04:05.000007Z
    const micros = Date.UTC(2026, 11, 6, 3, 4, 5) * 1000 + 7;
    const record = { level: 50, time: 0, pid: 42, component: 'http', msg: 'request failed', reqId: 'req-1', res: { statusCode: 500 }, err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.ts:1:2)' } };
    assert.equal(textLine(record, false, micros), 'E1206 03:04:05.000007 42 http] request failed reqId=req-1 res={"statusCode":500}: Error: boom\\n    at f (x.ts:1:2)\n');
    assert.equal(textLine(record, true, micros), '2026-12-06T03:04:05Z E 42 http] request failed reqId=req-1 res={"statusCode":500}: Error: boom\\n    at f (x.ts:1:2)\n');
    assert.equal(textLine({ level: 20, pid: 1, msg: 'a\tb\rc' }, false, micros), 'I1206 03:04:05.000007 1 nereid] a\\tb\\rc\n');
    assert.equal(textLine({ level: 40, pid: 1, msg: 'w' }, true, micros), '2026-12-06T03:04:05Z W 1 nereid] w\n');
  });
});

describe('nvidia-smi readings', () => {
  test('are read per GPU, in bytes, watts and 0..1, with N/A as 0', () => {
    const text = [
      '0, GPU-5fe7a8b4-1c2d-3e4f-8a9b-0c1d2e3f4a5b, 37, 81559, 1024, 71.50, 700.00, 123456',
      '1, GPU-00000000-0000-0000-0000-000000000001, [N/A], 81559, 0, [N/A], [N/A], [N/A]',
      '',
    ].join('\n');
    assert.deepEqual(parseNvidiaSmi(text), [
      { index: 0, uuid: 'GPU-5fe7a8b4-1c2d-3e4f-8a9b-0c1d2e3f4a5b', utilization: 0.37, memoryTotalBytes: 81559 * 2 ** 20, memoryUsedBytes: 1024 * 2 ** 20, powerUsageWatts: 71.5, powerLimitWatts: 700, energyMj: 123456 },
      { index: 1, uuid: 'GPU-00000000-0000-0000-0000-000000000001', utilization: 0, memoryTotalBytes: 81559 * 2 ** 20, memoryUsedBytes: 0, powerUsageWatts: 0, powerLimitWatts: 0, energyMj: 0 },
    ]);
  });

  test('skip lines that are not readings', () => {
    assert.deepEqual(parseNvidiaSmi('No devices were found\n'), []);
  });
});

describe('CPU ticks', () => {
  test("count iowait as idle and irq, softirq and steal as busy, as Triton does", () => {
    const text = 'cpu  100 5 50 1000 20 3 7 2 0 0\ncpu0 50 2 25 500 10 1 3 1 0 0\nintr 12345\n';
    assert.deepEqual(procStatTicks(text), { busy: 100 + 5 + 50 + 3 + 7 + 2, idle: 1020 });
  });
});
