/**
 * ModelInfer's direct route (src/api/grpc-unary-direct.ts): plain unary calls are answered on
 * grpc-js's HTTP/2 streams without grpc-js's per-call machinery, everything else still goes to
 * grpc-js, and the route answers every malformed call with a status and a message. Clients here
 * are the project's own (grpc-js underneath) and hand-framed HTTP/2, which can send what a
 * well-behaved client never would.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { decodeModelInferResponse, encodeModelInferRequest } from '../../../src/protocol/grpc-infer-wire.ts';
import { decodeGrpcInferResponse, encodeGrpcInferRequest, GrpcClient } from '../../../src/client/index.ts';
import { repositoryOf } from '../../helpers/server.ts';
import { until } from '../../helpers/batching.ts';
import { simpleExpected, simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

const kPath = '/inference.GRPCInferenceService/ModelInfer';
const kMaxMessage = 4096;

/** One length-prefixed gRPC message: flag byte, 4-byte big-endian length, the bytes. */
function frame(message: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flag;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

interface RawAnswer {
  readonly headers: http2.IncomingHttpHeaders;
  /** The trailers, or for a trailers-only answer the headers. */
  readonly status: { code: number; message: string };
  readonly body: Buffer;
}

/**
 * One call on an HTTP/2 session: `chunks` are written in order, and the request is ended unless
 * `end` is false (then the answer must come before the request is complete).
 */
function rawCall(session: http2.ClientHttp2Session, chunks: Buffer[], options: { end?: boolean; headers?: http2.OutgoingHttpHeaders } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': kPath, 'content-type': 'application/grpc', te: 'trailers', ...options.headers });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | null = null;
    const body: Buffer[] = [];
    req.on('response', (h) => {
      headers = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => body.push(c));
    req.on('error', reject);
    req.on('close', () => {
      const s = trailers ?? headers;
      if (s['grpc-status'] === undefined) return reject(new Error(`no grpc-status (HTTP ${headers[':status']}, RST code ${req.rstCode})`));
      resolve({ headers, status: { code: Number(s['grpc-status']), message: decodeURIComponent(String(s['grpc-message'] ?? '')) }, body: Buffer.concat(body) });
    });
    for (const c of chunks) req.write(c);
    if (options.end !== false) req.end();
  });
}

const simpleRequest = () => encodeModelInferRequest(encodeGrpcInferRequest('simple', simpleInputs(1, 3), { id: 'direct' }));

describe('ModelInfer on the direct route', () => {
  let ts: GrpcTestServer;
  let session: http2.ClientHttp2Session;
  const directCalls = () => ts.server.grpc!.modelInferDirect!.calls;

  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`, `--grpc-max-message-size=${kMaxMessage}`]);
    session = http2.connect(`http://${ts.grpcAddress}`);
  });
  after(async () => {
    session.close();
    await ts.close();
  });

  test('is in place with the @grpc/grpc-js this project pins', () => {
    // Fails when a grpc-js upgrade hides its HTTP/2 servers: unary calls would still be
    // answered, by grpc-js alone, but slower; grpc-unary-direct.ts needs a look then.
    assert.notEqual(ts.server.grpc!.modelInferDirect, null);
  });

  test('answers a plain call from the project client, with the values and the id', async () => {
    const before = directCalls();
    const result = await ts.grpc.infer('simple', simpleInputs(2, 5), { id: 'plain' });
    assert.equal(directCalls(), before + 1);
    assert.equal(result.id, 'plain');
    assert.deepEqual(Array.from(result.outputs[0].data as Int32Array), simpleExpected(2, 5).sum);
    assert.deepEqual(Array.from(result.outputs[1].data as Int32Array), simpleExpected(2, 5).difference);
  });

  test('answers with the headers, one message and the trailers a gRPC client expects', async () => {
    const answer = await rawCall(session, [frame(simpleRequest())]);
    assert.equal(answer.headers[':status'], 200);
    assert.equal(answer.headers['content-type'], 'application/grpc+proto');
    assert.deepEqual(answer.status, { code: 0, message: 'OK' });
    assert.equal(answer.body[0], 0, 'uncompressed');
    assert.equal(answer.body.readUInt32BE(1), answer.body.length - 5, 'exactly one message');
    const result = decodeGrpcInferResponse(decodeModelInferResponse(answer.body.subarray(5)));
    assert.equal(result.id, 'direct');
    assert.deepEqual(Array.from(result.outputs[0].data as Int32Array), simpleExpected(1, 3).sum);
  });

  test('reads a message that arrives in many small pieces', async () => {
    const framed = frame(simpleRequest());
    const pieces = Array.from({ length: Math.ceil(framed.length / 3) }, (_, i) => framed.subarray(i * 3, i * 3 + 3));
    const answer = await rawCall(session, pieces);
    assert.equal(answer.status.code, 0);
    assert.deepEqual(Array.from(decodeGrpcInferResponse(decodeModelInferResponse(answer.body.subarray(5))).outputs[1].data as Int32Array), simpleExpected(1, 3).difference);
  });

  test('reads a large request and writes a large answer (flow control, the answer written in two pieces)', async () => {
    // About 2.5 MiB each way on a separate server without the small message limit.
    const big = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`]);
    try {
      const words = Array.from({ length: 40 }, (_, i) => `${i}:`.padEnd(64 * 1024, String.fromCharCode(97 + (i % 26))));
      const before = big.server.grpc!.modelInferDirect!.calls;
      const result = await big.grpc.infer('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, words.length], data: words }]);
      assert.equal(big.server.grpc!.modelInferDirect!.calls, before + 1);
      assert.deepEqual(result.outputs[0].data, words);
    } finally {
      await big.close();
    }
  });

  test('answers gzip and deflate calls itself, inflated', async () => {
    for (const algorithm of [1, 2]) {
      const before = directCalls();
      const client = new GrpcClient(ts.grpcAddress, { channelOptions: { 'grpc.default_compression_algorithm': algorithm } });
      try {
        const compressed = await client.infer('simple', simpleInputs(1, 9));
        assert.deepEqual(Array.from(compressed.outputs[0].data as Int32Array), simpleExpected(1, 9).sum);
      } finally {
        client.close();
      }
      assert.equal(directCalls(), before + 1, `algorithm ${algorithm}`);
    }
  });

  test('leaves calls with a deadline and non-gRPC content to grpc-js', async () => {
    const before = directCalls();
    const request = encodeGrpcInferRequest('simple', simpleInputs());
    const withDeadline = decodeGrpcInferResponse(await ts.grpc.modelInfer(request, { deadline: Date.now() + 60_000 }));
    assert.deepEqual(Array.from(withDeadline.outputs[0].data as Int32Array), simpleExpected().sum);
    // grpc-js's own answer to a request that is not gRPC: HTTP 415.
    const status = await new Promise((resolve) => {
      const req = session.request({ ':method': 'POST', ':path': kPath, 'content-type': 'application/json' });
      req.on('response', (h) => resolve(h[':status']));
      req.on('error', () => {});
      req.end('{}');
    });
    assert.equal(status, 415);
    assert.equal(directCalls(), before);
  });

  const refusals: { name: string; chunks: () => Buffer[]; code: number; message: RegExp; end?: boolean }[] = [
    { name: 'no message', chunks: () => [], code: grpc.status.INVALID_ARGUMENT, message: /takes one request message, and got none/ },
    { name: 'two messages', chunks: () => [frame(simpleRequest()), frame(simpleRequest())], code: grpc.status.INVALID_ARGUMENT, message: /takes one request message, and got more than one/ },
    { name: 'a message cut short', chunks: () => [frame(simpleRequest()).subarray(0, 20)], code: grpc.status.INVALID_ARGUMENT, message: /the request message is cut short: 15 of \d+ bytes/ },
    { name: 'a prefix cut short', chunks: () => [Buffer.from([0, 0])], code: grpc.status.INVALID_ARGUMENT, message: /the request message is cut short/ },
    { name: 'the compressed flag without grpc-encoding', chunks: () => [frame(simpleRequest(), 1)], code: grpc.status.INTERNAL, message: /compressed message but "grpc-encoding" is identity/ },
    { name: 'bytes that are not a ModelInferRequest', chunks: () => [frame(Buffer.from([0x0a, 0x40, 0x73]))], code: grpc.status.INVALID_ARGUMENT, message: /not a ModelInferRequest: message truncated/ },
    {
      name: 'a message over --grpc-max-message-size, refused from its prefix before the rest is sent',
      // Only the prefix and a few bytes are written, and the request is left open.
      chunks: () => [frame(Buffer.alloc(kMaxMessage + 1)).subarray(0, 64)],
      end: false,
      code: grpc.status.RESOURCE_EXHAUSTED,
      message: new RegExp(`Received message larger than max \\(${kMaxMessage + 1} vs ${kMaxMessage}\\)`),
    },
  ];
  for (const c of refusals) {
    test(`refuses ${c.name}, with a message, and answers the next call`, async () => {
      const answer = await rawCall(session, c.chunks(), { end: c.end });
      assert.equal(answer.status.code, c.code, answer.status.message);
      assert.match(answer.status.message, c.message);
      assert.equal(answer.body.length, 0);
      const next = await rawCall(session, [frame(simpleRequest())]);
      assert.equal(next.status.code, 0);
    });
  }

  test('answers a model error as a trailers-only status', async () => {
    const answer = await rawCall(session, [frame(encodeModelInferRequest(encodeGrpcInferRequest('nope', simpleInputs())))]);
    assert.equal(answer.headers['grpc-status'], String(grpc.status.NOT_FOUND), 'status in the headers');
    assert.equal(answer.status.message, "Request for unknown model: 'nope' is not found");
  });

  test('carries on after clients reset their calls', async () => {
    await Promise.all(Array.from({ length: 8 }, () => new Promise<void>((resolve) => {
      const req = session.request({ ':method': 'POST', ':path': kPath, 'content-type': 'application/grpc', te: 'trailers' });
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.write(frame(simpleRequest()));
      req.close(http2.constants.NGHTTP2_CANCEL);
    })));
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => ts.grpc.infer('simple', simpleInputs(1, i))));
    results.forEach((r, i) => assert.deepEqual(Array.from(r.outputs[0].data as Int32Array), simpleExpected(1, i).sum));
  });
});

describe('ModelInfer on the direct route when the server closes', () => {
  test('answers the unary calls in flight', async () => {
    const ts = await startGrpcTestServer([`--model-repository=${repositoryOf('slow')}`]);
    try {
      const before = ts.server.grpc!.modelInferDirect!.calls;
      // close() starts once the server holds all three calls (`slow` takes about 0.4 s a run).
      const calls = [1, 2, 3].map((v) => ts.grpc.infer('slow', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [v] }]));
      await until(() => ts.server.grpc!.modelInferDirect!.calls === before + 3);
      await ts.server.close();
      const results = await Promise.all(calls);
      assert.deepEqual(results.map((r) => (r.outputs[0].data as Float32Array)[0]), [1, 2, 3]);
    } finally {
      ts.grpc.close();
    }
  });
});
