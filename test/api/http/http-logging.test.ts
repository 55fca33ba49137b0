import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inferValue, startRepoServer, until, type RepoServer } from '../../helpers/batching.ts';
import { slowConfig } from '../../helpers/repo.ts';
import { jsonOf, postJson, request } from '../../helpers/http.ts';
import { repositoryOf, startTestServer } from '../../helpers/server.ts';
import { CRASH_MARKER, onCrashBackend, registerCrashBackend } from '../../helpers/crash-backend.ts';

// `slow` runs on the test_crash backend: a marked request makes its worker die, which the server
// logs as an error.
registerCrashBackend();

const guard = { timeout: 60_000 };
const models = { slow: { from: 'slow', config: onCrashBackend(slowConfig('dynamic_batching { }')) } };

/** A line of the log file in any of the three formats: pino's level, the time as written, the message. */
interface LogLine {
  format: 'json' | 'default' | 'ISO8601';
  level: number;
  time: number | string;
  msg: string;
  /** The request's URL, on fastify's request lines. */
  url?: string;
}

const LEVELS: Record<string, number> = { I: 30, W: 40, E: 50 };
const DEFAULT_LINE = /^([IWE])(\d{4} \d\d:\d\d:\d\d\.\d{6}) (\d+) ([\w-]+)\] (.*)$/;
const ISO_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ([IWE]) (\d+) ([\w-]+)\] (.*)$/;

function parseLine(line: string): LogLine {
  if (line.startsWith('{')) {
    const j = JSON.parse(line) as { level: number; time: number; msg: string; req?: { url?: string } };
    return { format: 'json', level: j.level, time: j.time, msg: j.msg, url: j.req?.url };
  }
  const text = (msg: string) => ({ msg: msg.replace(/ reqId=.*$/, ''), url: /"url":"([^"]*)"/.exec(msg)?.[1] });
  let m = DEFAULT_LINE.exec(line);
  if (m) return { format: 'default', level: LEVELS[m[1]], time: m[2], ...text(m[5]) };
  m = ISO_LINE.exec(line);
  if (m) return { format: 'ISO8601', level: LEVELS[m[2]], time: m[1], ...text(m[5]) };
  throw new Error(`a log line in no known format: ${line}`);
}

function readLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map(parseLine);
}

/**
 * Waits until the server has written at least `count` lines matching `match` to `file`: the
 * logger writes asynchronously, so the line may land after the answer. until()'s limit is a
 * guard against a hang, not a time assertion.
 */
async function waitForLines(file: string, match: (l: LogLine) => boolean, count: number): Promise<LogLine[]> {
  try {
    await until(() => readLines(file).filter(match).length >= count);
  } catch {
    throw new Error(`${file} never had ${count} matching lines:\n${existsSync(file) ? readFileSync(file, 'utf8') : '(no file)'}`);
  }
  return readLines(file).filter(match);
}

// Request lines of inferences only: the POSTs to /v2/logging are logged too while verbose.
const incoming = (l: LogLine) => l.msg === 'incoming request' && /\/infer$/.test(l.url ?? '');
const failed = (l: LogLine) => l.msg.startsWith('request failed');

describe('logging extension', () => {
  let s: RepoServer;
  let dir: string;
  let file: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-log-'));
    file = path.join(dir, 'server.log');
    s = await startRepoServer(models, [`--log-file=${file}`, '--log-format=json']);
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const settings = async () => jsonOf(await request(`${s.url}/v2/logging`));
  const change = (body: unknown) => postJson(`${s.url}/v2/logging`, body);

  it("reports Triton's fields with the start-up values", guard, async () => {
    assert.deepEqual(await settings(), {
      log_file: file, log_info: true, log_warning: true, log_error: true, log_verbose_level: 0, log_format: 'json',
    });
  });

  it('turns request logging on and off at run time, and switches the line format', guard, async () => {
    await inferValue(s.url, 'slow', 1);
    const verbose = await change({ log_verbose_level: 1 });
    assert.equal(verbose.status, 200);
    assert.equal(jsonOf(verbose).log_verbose_level, 1);
    assert.equal(readLines(file).filter(incoming).length, 0, 'no request lines at verbose level 0');
    await inferValue(s.url, 'slow', 2);
    const [first] = await waitForLines(file, incoming, 1);
    assert.equal(first.format, 'json');
    assert.equal(first.level, 30);
    assert.equal(typeof first.time, 'number');

    assert.equal(jsonOf(await change({ log_format: 'ISO8601' })).log_format, 'ISO8601');
    await inferValue(s.url, 'slow', 3);
    const lines = await waitForLines(file, incoming, 2);
    assert.equal(lines[1].format, 'ISO8601');
    assert.equal(lines[1].level, 30);

    assert.equal(jsonOf(await change({ log_format: 'default' })).log_format, 'default');
    await inferValue(s.url, 'slow', 3);
    const third = (await waitForLines(file, incoming, 3))[2];
    assert.equal(third.format, 'default');

    await change({ log_verbose_level: 0, log_format: 'json' });
    await inferValue(s.url, 'slow', 4);
    // The next request lines come from a later request; none from the one at level 0.
    await change({ log_verbose_level: 1 });
    await postJson(`${s.url}/v2/models/slow/infer`, { id: 'marker', inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [5] }] });
    const after = await waitForLines(file, incoming, 4);
    assert.equal(after.length, 4);
    await change({ log_verbose_level: 0 });
  });

  it('keeps info lines out with log_info false and error lines out with log_error false', guard, async () => {
    await change({ log_verbose_level: 1, log_info: false });
    assert.equal((await inferValue(s.url, 'slow', CRASH_MARKER)).status, 500);
    const [error] = await waitForLines(file, failed, 1);
    assert.equal(error.level, 50);
    assert.equal(readLines(file).filter(incoming).length, 4, 'no info lines while log_info is false');
    const infoBefore = readLines(file).filter(incoming).length;
    await inferValue(s.url, 'slow', 2);
    await change({ log_error: false });
    assert.equal((await inferValue(s.url, 'slow', CRASH_MARKER)).status, 500);
    // Turn info back on and wait for the next request's line: everything before it is written.
    await change({ log_info: true, log_error: true });
    await inferValue(s.url, 'slow', 4);
    await waitForLines(file, incoming, infoBefore + 1);
    assert.equal(readLines(file).filter(incoming).length, infoBefore + 1, 'only the request after log_info came back on');
    assert.equal(readLines(file).filter(failed).length, 1, 'the second failure was not logged');
    await change({ log_verbose_level: 0 });
  });

  const bad: [string, unknown, number, RegExp][] = [
    ['a non-boolean log_info', { log_info: 'yes' }, 400, /'log_info' must be a boolean, got string/],
    ['a non-boolean log_warning', { log_warning: 1 }, 400, /'log_warning' must be a boolean, got number/],
    ['a non-boolean log_error', { log_error: [] }, 400, /'log_error' must be a boolean, got object/],
    ['a negative verbose level', { log_verbose_level: -1 }, 400, /'log_verbose_level' must be an integer from 0 to 2147483647, got -1/],
    ['a fractional verbose level', { log_verbose_level: 1.5 }, 400, /'log_verbose_level' must be an integer/],
    ['a verbose level as text', { log_verbose_level: '1' }, 400, /'log_verbose_level' must be an integer/],
    ['an unknown format', { log_format: 'glog' }, 400, /invalid argument for --log_format, got: glog \(expected default, ISO8601 or json\)/],
    ['a new log file', { log_file: '/tmp/elsewhere.log' }, 501, /log file location can not be updated through network protocol/],
    ['an unknown setting', { log_level: 'debug' }, 400, /unknown log setting 'log_level'/],
    ['an array', [1], 400, /log setting request must be a JSON object/],
    ['malformed JSON', '{"log_info":', 400, /invalid JSON/],
  ];
  for (const [what, body, status, message] of bad) {
    it(`refuses ${what} with ${status} and a message`, guard, async () => {
      const res = await change(body);
      assert.equal(res.status, status);
      assert.match(jsonOf(res).error, message);
    });
  }

  it('changes nothing when any field of an update is bad, and ignores null fields', guard, async () => {
    const before = await settings();
    assert.equal((await change({ log_info: false, log_verbose_level: 'x' })).status, 400);
    assert.deepEqual(await settings(), before);
    const res = await change({ log_info: null, log_file: null });
    assert.equal(res.status, 200);
    assert.deepEqual(jsonOf(res), before);
    const empty = await request(`${s.url}/v2/logging`, { method: 'POST', body: '' });
    assert.deepEqual(jsonOf(empty), before);
  });
});

describe('logging flags', () => {
  it('refuse to start with a log file that cannot be opened, naming the flag', guard, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-log-'));
    try {
      await assert.rejects(startTestServer([`--model-repository=${repositoryOf('simple')}`, `--log-file=${path.join(dir, 'missing', 'x.log')}`]), /^Error: --log-file: cannot open '.*x\.log': ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("write every line to --log-file in Triton's default format: start-up lines, a worker's line, request lines", guard, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-log-'));
    const file = path.join(dir, 'server.log');
    const s = await startTestServer([`--model-repository=${repositoryOf('simple')}`, `--log-file=${file}`, '--log-verbose=1']);
    try {
      const text = (l: LogLine) => l.format === 'default';
      await until(() => readLines(file).some((l) => l.msg.startsWith('instance simple_0_0 ')));
      assert.equal((await s.client.infer('simple', [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(2) },
      ])).outputs.length, 2);
      await waitForLines(file, incoming, 1);
      const lines = readLines(file);
      assert.ok(lines.every(text), 'every line in the default format');
      const msgs = lines.map((l) => l.msg);
      for (const expected of [
        "model 'simple' version 1: READY",
        `Started HTTPService at 127.0.0.1:${s.server.httpPort}`,
        `Started GRPCInferenceService at ${s.server.grpc!.endpoint}`,
        `Started Metrics Service at 127.0.0.1:${s.server.metricsPort}`,
      ]) assert.ok(msgs.includes(expected), `'${expected}' in:\n${msgs.join('\n')}`);
      assert.match(msgs.find((m) => m.startsWith('instance simple_0_0 '))!, /^instance simple_0_0 of model 'simple' version 1 loaded on CPU \(backend onnxruntime, \d+ intra-op threads?\) thread=\d+$/);
      // The component in place of Triton's file:line.
      const raw = readFileSync(file, 'utf8');
      assert.match(raw, / server\] Started HTTPService at /);
      assert.match(raw, / worker\] instance simple_0_0 /);
      assert.match(raw, / http\] incoming request /);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('start the server with the levels and format given', guard, async () => {
    const s = await startRepoServer(models, ['--log-verbose=2', '--log-info=false', '--log-warning', 'false', '--log-format=ISO8601']);
    try {
      assert.deepEqual(jsonOf(await request(`${s.url}/v2/logging`)), {
        log_file: '', log_info: false, log_warning: false, log_error: true, log_verbose_level: 2, log_format: 'ISO8601',
      });
    } finally {
      await s.close();
    }
  });
});
