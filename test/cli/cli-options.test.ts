import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_OPTIONS, parseCliOptions } from '../../src/cli/cli-options.ts';

describe('command-line defaults', () => {
  test("are Triton's ports, a 30 s exit timeout and a 64 MiB input limit", () => {
    const o = parseCliOptions([]);
    assert.deepEqual(o.modelRepositories, ['./model_repository']);
    assert.equal(o.httpAddress, '0.0.0.0');
    assert.equal(o.httpPort, 8000);
    assert.equal(o.grpcPort, 8001);
    assert.equal(o.metricsPort, 8002);
    assert.equal(o.exitTimeoutSecs, 30);
    assert.equal(o.httpMaxInputSizeBytes, 64 * 1024 * 1024);
    assert.equal(o.allowHttp, true);
    assert.equal(o.strictModelConfig, false);
    assert.equal(o.disableAutoCompleteConfig, false);
    assert.equal(o.logVerbose, 0);
    assert.equal(o.help, false);
    assert.equal(o.version, false);
    assert.deepEqual(o.tritonFlagsIgnored, []);
    assert.equal(o.exitOnError, true);
    assert.equal(o.strictReadiness, true);
    assert.equal(o.modelLoadThreadCount, 4);
    const { help: _h, version: _v, tritonFlagsIgnored: _t, ...options } = o;
    assert.deepEqual(options, DEFAULT_OPTIONS);
  });

  test('come back frozen', () => {
    const o = parseCliOptions(['--model-repository=a']);
    assert.ok(Object.isFrozen(o));
    assert.ok(Object.isFrozen(o.modelRepositories));
  });
});

describe('command-line flags', () => {
  test('take --model-repository more than once, with --model-store as its alias', () => {
    const o = parseCliOptions(['--model-repository', 'a', '--model-repository=b', '--model-store', 'c']);
    assert.deepEqual(o.modelRepositories, ['a', 'b', 'c']);
  });

  const pairs: [string, string, (o: ReturnType<typeof parseCliOptions>) => unknown, unknown][] = [
    ['http-port', '0', (o) => o.httpPort, 0],
    ['grpc-port', '9001', (o) => o.grpcPort, 9001],
    ['metrics-port', '65535', (o) => o.metricsPort, 65535],
    ['http-address', '127.0.0.1', (o) => o.httpAddress, '127.0.0.1'],
    ['exit-timeout-secs', '0', (o) => o.exitTimeoutSecs, 0],
    ['http-max-input-size', '1024', (o) => o.httpMaxInputSizeBytes, 1024],
    ['log-verbose', '2', (o) => o.logVerbose, 2],
    ['allow-http', 'false', (o) => o.allowHttp, false],
    ['strict-model-config', 'true', (o) => o.strictModelConfig, true],
    ['disable-auto-complete-config', 'no', (o) => o.disableAutoCompleteConfig, false],
    ['allow-client-shm', 'true', (o) => o.allowClientShm, true],
    ['client-shm-max-bytes', '4096', (o) => o.clientShmMaxBytes, 4096],
    ['exit-on-error', 'false', (o) => o.exitOnError, false],
    ['strict-readiness', 'false', (o) => o.strictReadiness, false],
    ['model-load-thread-count', '2', (o) => o.modelLoadThreadCount, 2],
    ['model-control-mode', 'poll', (o) => o.modelControlMode, 'poll'],
    ['repository-poll-secs', '1', (o) => o.repositoryPollSecs, 1],
    ['id', 'replica-7', (o) => o.serverId, 'replica-7'],
    ['backend-config', 'onnxruntime,intra_op_thread_count=3', (o) => o.backendConfig, { defaultMaxBatchSize: null, intraOpThreads: 3, interOpThreads: null }],
  ];
  for (const [flag, value, read, expected] of pairs) {
    test(`read --${flag} ${value} and --${flag}=${value} alike`, () => {
      assert.deepEqual(read(parseCliOptions([`--${flag}`, value])), expected);
      assert.deepEqual(read(parseCliOptions([`--${flag}=${value}`])), expected);
    });
  }

  test('take --load-model repeated, and default to none mode polling every 15 s', () => {
    const o = parseCliOptions(['--model-control-mode=explicit', '--load-model=a', '--load-model', 'b', '--load-model=a']);
    assert.deepEqual(o.loadModels, ['a', 'b']);
    assert.deepEqual(parseCliOptions(['--model-control-mode=explicit', '--load-model=*']).loadModels, ['*']);
    const d = parseCliOptions([]);
    assert.equal(d.modelControlMode, 'none');
    assert.equal(d.repositoryPollSecs, 15);
    assert.deepEqual(d.loadModels, []);
    assert.equal(d.modelMemoryBudget, null);
    assert.equal(d.modelLoadWaitSecs, 60);
  });

  test('read --model-memory-budget as bytes or as a number of models', () => {
    assert.deepEqual(parseCliOptions(['--model-control-mode=explicit', '--model-memory-budget=1073741824']).modelMemoryBudget, { unit: 'bytes', limit: 1073741824 });
    assert.deepEqual(parseCliOptions(['--model-control-mode=explicit', '--model-memory-budget', '3models']).modelMemoryBudget, { unit: 'models', limit: 3 });
    assert.equal(parseCliOptions(['--model-load-wait-secs=5']).modelLoadWaitSecs, 5);
  });

  test('take a bare boolean flag as true, also when another flag follows it', () => {
    assert.equal(parseCliOptions(['--strict-model-config']).strictModelConfig, true);
    assert.equal(parseCliOptions(['--disable-auto-complete-config']).disableAutoCompleteConfig, true);
    const o = parseCliOptions(['--strict-model-config', '--http-port', '5', '--allow-http']);
    assert.equal(o.strictModelConfig, true);
    assert.equal(o.httpPort, 5);
    assert.equal(o.allowHttp, true);
  });

  test('read boolean words in any case', () => {
    for (const [word, value] of [['TRUE', true], ['1', true], ['on', true], ['Yes', true], ['False', false], ['0', false], ['off', false], ['NO', false]] as const) {
      assert.equal(parseCliOptions([`--allow-http=${word}`]).allowHttp, value, word);
    }
  });

  test('take --gpus as a list of GPU ids, empty for none, and discover GPUs without it', () => {
    assert.equal(parseCliOptions([]).gpus, null);
    assert.deepEqual(parseCliOptions(['--gpus=0, 2,2']).gpus, [0, 2]);
    assert.deepEqual(parseCliOptions(['--gpus=']).gpus, []);
  });

  test('set help for -h and --help', () => {
    assert.equal(parseCliOptions(['-h']).help, true);
    assert.equal(parseCliOptions(['--help']).help, true);
  });
});

describe('bad command-line flags', () => {
  const bad: [string, string][] = [
    ['http-port', 'abc'], ['http-port', '-1'], ['http-port', '65536'], ['http-port', '1.5'], ['http-port', ''],
    ['http-port', '0x50'], ['http-port', '1e3'], ['grpc-port', '70000'], ['metrics-port', 'x'],
    ['exit-timeout-secs', '-1'], ['exit-timeout-secs', '2.5'], ['http-max-input-size', '0'], ['http-max-input-size', '64MB'],
    ['log-verbose', '-1'], ['allow-http', 'maybe'], ['strict-model-config', '2'], ['disable-auto-complete-config', 'yes please'],
    ['http-address', ''], ['model-repository', ''], ['gpus', 'a'], ['gpus', '0,-1'], ['gpus', '1.5'],
    ['allow-client-shm', 'sometimes'], ['client-shm-max-bytes', '-1'], ['client-shm-max-bytes', '1GiB'],
  ];
  for (const [flag, value] of bad) {
    test(`refuses --${flag}=${JSON.stringify(value)} with a message naming the flag`, () => {
      assert.throws(() => parseCliOptions([`--${flag}=${value}`]), (err: unknown) => {
        assert.ok(err instanceof TypeError || err instanceof RangeError, String(err));
        assert.match(err.message, new RegExp(`--${flag}\\b`));
        return true;
      });
    });
  }

  test('refuses a bad boolean word given after a space, naming the flag', () => {
    assert.throws(() => parseCliOptions(['--strict-model-config', 'maybe']), { name: 'TypeError', message: /--strict-model-config must be true or false/ });
  });

  test('refuses a flag without its value, naming it', () => {
    assert.throws(() => parseCliOptions(['--http-port']), { name: 'TypeError', message: /--http-port/ });
  });

  test('refuses an unknown flag, naming it and showing the usage', () => {
    assert.throws(() => parseCliOptions(['--model-repo=x']), { name: 'TypeError', message: /Unknown option '--model-repo'[\s\S]*Usage: nereid/ });
  });

  test('refuses positional arguments', () => {
    assert.throws(() => parseCliOptions(['model_repository']), { name: 'TypeError', message: /Unexpected argument 'model_repository'/ });
  });
});

describe("Triton's flags passed out of habit", () => {
  test('--version asks for the version', () => {
    assert.equal(parseCliOptions(['--version']).version, true);
  });

  test('--backend-config takes the onnxruntime thread counts and default-max-batch-size, repeated', () => {
    const o = parseCliOptions(['--backend-config=onnxruntime,intra_op_thread_count=2', '--backend-config', 'onnxruntime,inter_op_thread_count=3', '--backend-config=default-max-batch-size=0']);
    assert.deepEqual(o.backendConfig, { defaultMaxBatchSize: 0, intraOpThreads: 2, interOpThreads: 3 });
  });

  const refused: [string, RegExp][] = [
    ['--backend-config=onnxruntime,enable-global-threadpool=1', /^--backend-config: onnxruntime setting 'enable-global-threadpool' has no meaning here; the onnxruntime settings are: intra_op_thread_count, inter_op_thread_count$/],
    ['--backend-config=tensorflow,version=2', /^--backend-config: backend 'tensorflow' is not served here; Nereid's backend is onnxruntime$/],
    ['--backend-config=backend-directory=/x', /^--backend-config: 'backend-directory' has no meaning here; the settings for all backends are: default-max-batch-size$/],
    ['--backend-config=onnxruntime,intra_op_thread_count=0', /^--backend-config: onnxruntime,intra_op_thread_count must be an integer of at least 1 \(got '0'\)$/],
    ['--backend-config=onnxruntime', /^--backend-config must be <backend>,<setting>=<value> or <setting>=<value> \(got 'onnxruntime'\)$/],
    ['--model-load-thread-count=0', /^--model-load-thread-count must be at least 1 \(got 0\)$/],
    ['--model-control-mode=manual', /^--model-control-mode must be one of none, poll, explicit \(got 'manual'\)$/],
    ['--load-model=simple', /^--load-model can only be used with --model-control-mode=explicit$/],
    ['--repository-poll-secs=0', /^--repository-poll-secs must be at least 1 \(got 0\)$/],
    ['--model-memory-budget=1000', /^--model-memory-budget can only be used with --model-control-mode=explicit$/],
    ['--model-memory-budget=1GB', /^--model-memory-budget must be a number of bytes or of models \(e\.g\. 1073741824 or 3models\), at least 1 \(got '1GB'\)$/],
    ['--exit-on-error=maybe', /^--exit-on-error must be true or false \(got 'maybe'\)$/],
    ['--id=', /^--id must not be empty$/],
    ['--http-restricted-api=model-repository,key=value', /^--http-restricted-api option format is '<api list>:<key>=<value>'/],
  ];
  for (const [arg, message] of refused) {
    test(`refuses ${arg} with a message that says why`, () => {
      assert.throws(() => parseCliOptions([arg]), { message });
    });
  }

  test('names flags without an effect here once each, with their values taken out', () => {
    const o = parseCliOptions(['--http-thread-count', '8', '--pinned-memory-pool-byte-size=0', '--http-port', '9', '--http-thread-count=4', '--rate-limit', 'off', '--allow-http']);
    assert.deepEqual(o.tritonFlagsIgnored, ['--http-thread-count', '--pinned-memory-pool-byte-size', '--rate-limit']);
    assert.equal(o.httpPort, 9);
    assert.equal(o.allowHttp, true);
  });

  test('still refuses a flag Triton does not have either', () => {
    assert.throws(() => parseCliOptions(['--no-such-flag=1']), { message: /Unknown option '--no-such-flag'/ });
  });
});
