/**
 * The gRPC flags: parsing and validation (table-driven, messages name the flag), and their
 * effect on a running server: --allow-grpc, message size, compressed requests, flags grpc-js
 * cannot apply, a port in use, and draining on close.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../../src/client/index.ts';
import { parseCliOptions } from '../../../src/cli/cli-options.ts';
import { DEFAULT_GRPC_OPTIONS, type GrpcOptions } from '../../../src/cli/grpc-cli-options.ts';
import { startServer } from '../../../src/server/server-lifecycle.ts';
import { repositoryOf, startTestServer } from '../../helpers/server.ts';
import { simpleExpected, simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

interface FlagCase {
  readonly name: string;
  readonly args: string[];
  readonly output?: Partial<GrpcOptions> & { grpcPort?: number };
  readonly error?: RegExp;
}

const tls = ['--grpc-server-cert=s.crt', '--grpc-server-key=s.key'];
const flagCases: FlagCase[] = [
  { name: 'no flags gives Triton\'s defaults', args: [], output: { ...DEFAULT_GRPC_OPTIONS, grpcPort: 8001 } },
  { name: 'a port and an address', args: ['--grpc-port=9001', '--grpc-address=127.0.0.1'], output: { grpcPort: 9001, address: '127.0.0.1' } },
  { name: '--allow-grpc=false', args: ['--allow-grpc=false'], output: { allow: false } },
  { name: 'bare --allow-grpc', args: ['--allow-grpc'], output: { allow: true } },
  { name: 'TLS with its files', args: ['--grpc-use-ssl', ...tls], output: { useSsl: true, useSslMutual: false, serverCertPath: 's.crt', serverKeyPath: 's.key' } },
  { name: 'mutual TLS, which turns TLS on', args: ['--grpc-use-ssl-mutual=true', ...tls, '--grpc-root-cert=ca.crt'], output: { useSsl: true, useSslMutual: true, rootCertPath: 'ca.crt' } },
  { name: 'a compression level', args: ['--grpc-infer-response-compression-level=high'], output: { responseCompressionLevel: 'high' } },
  { name: 'a message size', args: ['--grpc-max-message-size=1048576'], output: { maxMessageSizeBytes: 1048576 } },
  {
    name: 'keepalive and connection age',
    args: ['--grpc-keepalive-time=10000', '--grpc-keepalive-timeout=500', '--grpc-keepalive-permit-without-calls=1', '--grpc-http2-max-pings-without-data=0',
      '--grpc-http2-min-recv-ping-interval-without-data=1000', '--grpc-http2-max-ping-strikes=0', '--grpc-max-connection-age=60000', '--grpc-max-connection-age-grace=5000'],
    output: { keepaliveTimeMs: 10000, keepaliveTimeoutMs: 500, keepalivePermitWithoutCalls: true, http2MaxPingsWithoutData: 0, http2MinRecvPingIntervalWithoutDataMs: 1000, http2MaxPingStrikes: 0, maxConnectionAgeMs: 60000, maxConnectionAgeGraceMs: 5000 },
  },
  { name: 'a port out of range', args: ['--grpc-port=70000'], error: /^--grpc-port must be a port number from 0 to 65535 \(got 70000\)$/ },
  { name: 'a port that is not a number', args: ['--grpc-port=abc'], error: /^--grpc-port must be an integer \(got 'abc'\)$/ },
  { name: 'a bad boolean', args: ['--allow-grpc=maybe'], error: /^--allow-grpc must be true or false \(got 'maybe'\)$/ },
  { name: 'an empty address', args: ['--grpc-address='], error: /^--grpc-address must not be empty$/ },
  { name: 'TLS without its files', args: ['--grpc-use-ssl=true'], error: /^--grpc-use-ssl needs --grpc-server-cert and --grpc-server-key$/ },
  { name: 'mutual TLS without a key', args: ['--grpc-use-ssl-mutual', '--grpc-server-cert=s.crt', '--grpc-root-cert=ca.crt'], error: /^--grpc-use-ssl-mutual needs --grpc-server-cert and --grpc-server-key$/ },
  { name: 'mutual TLS without a root certificate', args: ['--grpc-use-ssl-mutual', ...tls], error: /^--grpc-use-ssl-mutual needs --grpc-root-cert/ },
  { name: 'an unknown compression level', args: ['--grpc-infer-response-compression-level=max'], error: /^--grpc-infer-response-compression-level must be one of none, low, medium, high \(got 'max'\)$/ },
  { name: 'a zero message size', args: ['--grpc-max-message-size=0'], error: /^--grpc-max-message-size must be at least 1 \(got 0\)$/ },
  { name: 'a message size past 2^31-1', args: ['--grpc-max-message-size=4294967296'], error: /^--grpc-max-message-size must be at most 2147483647/ },
  { name: 'a zero keepalive time', args: ['--grpc-keepalive-time=0'], error: /^--grpc-keepalive-time must be at least 1/ },
  { name: 'a negative ping strike count', args: ['--grpc-http2-max-ping-strikes=-1'], error: /^--grpc-http2-max-ping-strikes must be at least 0/ },
  { name: 'a flag Triton has but Nereid does not', args: ['--grpc-infer-thread-count=4'], error: /Unknown option '--grpc-infer-thread-count'/ },
];

describe('gRPC flags', () => {
  for (const c of flagCases) {
    test(`parses ${c.name}`, () => {
      if (c.error) {
        assert.throws(() => parseCliOptions(c.args), (err: Error) => c.error!.test(err.message));
        return;
      }
      const options = parseCliOptions(c.args);
      const { grpcPort, ...grpcFields } = c.output!;
      if (grpcPort !== undefined) assert.equal(options.grpcPort, grpcPort);
      for (const [key, value] of Object.entries(grpcFields)) assert.deepEqual(options.grpc[key as keyof GrpcOptions], value, key);
      assert.ok(Object.isFrozen(options.grpc));
    });
  }
});

describe('gRPC flags on a running server', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`, '--grpc-max-message-size=4096', '--grpc-infer-response-compression-level=low', '--grpc-http2-max-ping-strikes=0']);
  });
  after(() => ts.close());

  test('answers RESOURCE_EXHAUSTED, with a message, to a request over --grpc-max-message-size', async () => {
    const big = [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], data: ['x'.repeat(8192)] }];
    await assert.rejects(ts.grpc.infer('simple_identity', big), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(err.details, /larger than max \(\d+ vs 4096\)/);
      return true;
    });
    assert.equal((await ts.grpc.infer('simple', simpleInputs())).outputs.length, 2);
  });

  test('accepts gzip-compressed requests, and applies the size limit to them inflated', async () => {
    const gzip = new GrpcClient(ts.grpcAddress, { channelOptions: { 'grpc.default_compression_algorithm': 2 } });
    try {
      const result = await gzip.infer('simple', simpleInputs(), { contents: 'typed' });
      assert.deepEqual(Array.from(result.outputs[0].data as Int32Array), simpleExpected().sum);
      // Small on the wire, over the limit once inflated: the size limit holds after decompression.
      const big = [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], data: ['x'.repeat(8192)] }];
      await assert.rejects(gzip.infer('simple_identity', big), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(err.details, /decompresses to more than 4096 bytes \(--grpc-max-message-size\)/);
        return true;
      });
    } finally {
      gzip.close();
    }
  });

  test('says at start-up which gRPC settings it cannot apply', () => {
    assert.ok(ts.log.some((l) => /--grpc-infer-response-compression-level=low: .*sent uncompressed/.test(l)), ts.log.join('\n'));
    assert.ok(ts.log.some((l) => /--grpc-http2-max-ping-strikes has no effect/.test(l)), ts.log.join('\n'));
    assert.ok(ts.log.some((l) => l === `gRPC: listening on ${ts.grpcAddress}`), ts.log.join('\n'));
  });
});

describe('gRPC front-end lifecycle', () => {
  test('serves no gRPC with --allow-grpc=false', async () => {
    const ts = await startTestServer([`--model-repository=${repositoryOf('simple')}`, '--allow-grpc=false']);
    try {
      assert.equal(ts.server.grpcPort, null);
      assert.equal(ts.server.grpc, null);
      assert.equal(await ts.client.isLive(), true);
    } finally {
      await ts.close();
    }
  });

  test('refuses to start on a gRPC port in use, and releases what it started', async () => {
    const first = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`]);
    try {
      const options = parseCliOptions([`--model-repository=${repositoryOf('simple')}`, '--http-address=127.0.0.1', '--http-port=0', '--grpc-address=127.0.0.1', `--grpc-port=${first.server.grpcPort}`]);
      await assert.rejects(startServer(options, { logLevel: 'silent' }));
      assert.equal(await first.grpc.serverLive(), true);
    } finally {
      await first.close();
    }
  });

  test('lets calls in flight finish when the server closes', async () => {
    const ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`]);
    const stream = ts.grpc.stream();
    stream.send('simple', simpleInputs(), { id: 'before' });
    assert.equal((await stream.next()).id, 'before');
    const closed = ts.server.close();
    stream.send('simple', simpleInputs(1, 7), { id: 'during' });
    const during = await stream.next();
    assert.equal(during.id, 'during');
    assert.deepEqual(Array.from(during.result!.outputs[0].data as Int32Array), simpleExpected(1, 7).sum);
    await stream.end();
    await closed;
    ts.grpc.close();
  });

  test('cuts a stream left open once the exit timeout has passed', async () => {
    const ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`, '--exit-timeout-secs=1']);
    const stream = ts.grpc.stream();
    stream.send('simple', simpleInputs(), { id: 'open' });
    assert.equal((await stream.next()).id, 'open');
    await ts.server.close();
    await assert.rejects(stream.next());
    ts.grpc.close();
  });
});
