import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogSettings } from '../../src/observability/log-settings.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { DEFAULT_LOG_OPTIONS } from '../../src/cli/observability-options.ts';
import { parseNvidiaSmi, procStatTicks } from '../../src/observability/system-monitor.ts';

/** A logger writing into an array of parsed lines. */
function capture(verbose = 0) {
  const lines: { level: number; time: number | string; msg: string }[] = [];
  const settings = new LogSettings(DEFAULT_LOG_OPTIONS, verbose);
  const logger = createLogger(settings, { write: (s: string) => { lines.push(JSON.parse(s)); } });
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

  test('writes the time as epoch ms by default and as ISO 8601 when asked', () => {
    const { lines, settings, logger } = capture();
    logger.info('a');
    settings.update({ log_format: 'ISO8601' });
    logger.info('b');
    assert.equal(typeof lines[0].time, 'number');
    assert.match(String(lines[1].time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
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
