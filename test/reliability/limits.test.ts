/**
 * Issue 13's crash vectors, replayed at a size that runs fast but crosses a limit (the limits
 * are lowered by flag, so each request stays small), and two at the default limits: each gets a
 * 413 / RESOURCE_EXHAUSTED that names the limit's flag, and the server answers the next request.
 * The full-size replays, with their memory and time, are in bench/crash-vectors.ts.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcInferRequest, encodeModelInferRequest, GrpcClient, SharedMemoryRegion } from '../../src/client/index.ts';
import { repositoryOf } from '../helpers/server.ts';
import { simpleExpected, simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';
import { removeAll, uniqueShmName } from '../helpers/shm.ts';
import { rawGrpcCall } from '../helpers/raw-grpc.ts';

const kInfer = '/inference.GRPCInferenceService/ModelInfer';

/** A ModelInferRequest for simple_identity with `count` empty BYTES elements in raw contents. */
function emptyBytesRequest(count: number): Buffer {
  const msg = encodeGrpcInferRequest('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, count], data: [] }], {});
  msg.raw_input_contents = [Buffer.alloc(4 * count)];
  return encodeModelInferRequest(msg);
}

/** An HTTP binary request for simple_identity with `count` empty BYTES elements. */
function emptyBytesBody(count: number): { body: Buffer<ArrayBuffer>; headerLength: number } {
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, count], parameters: { binary_data_size: 4 * count } }] }));
  return { body: Buffer.concat([header, Buffer.alloc(4 * count)]), headerLength: header.length };
}

async function postBinary(url: string, count: number): Promise<{ status: number; error: string }> {
  const { body, headerLength } = emptyBytesBody(count);
  const res = await fetch(`${url}/v2/models/simple_identity/infer`, {
    method: 'POST', headers: { 'Inference-Header-Content-Length': String(headerLength), 'Content-Type': 'application/octet-stream' }, body,
  });
  return { status: res.status, error: ((await res.json()) as { error?: string }).error ?? '' };
}

/** The server still serves: simple over gRPC (the client's connection) and HTTP. */
async function stillServes(ts: GrpcTestServer): Promise<void> {
  const viaGrpc = await ts.grpc.infer('simple', simpleInputs(1, 3));
  assert.deepEqual(Array.from(viaGrpc.outputs[0].data as Int32Array), simpleExpected(1, 3).sum);
  const viaHttp = await ts.client.infer('simple', simpleInputs(1, 4));
  assert.deepEqual(Array.from(viaHttp.outputs[0].data as Int32Array), simpleExpected(1, 4).sum);
}

describe('limits lowered by flag', () => {
  let ts: GrpcTestServer;
  let session: http2.ClientHttp2Session;
  before(async () => {
    ts = await startGrpcTestServer([
      `--model-repository=${repositoryOf('simple', 'simple_identity')}`, '--allow-client-shm=true',
      '--max-request-elements=1000', '--max-request-memory=250000', '--grpc-max-message-size=1048576', '--http-max-input-size=1048576',
    ]);
    session = http2.connect(`http://${ts.grpcAddress}`);
  });
  after(async () => {
    session?.close();
    await ts?.close();
    removeAll();
  });

  test('HTTP binary: more BYTES elements than --max-request-elements is 413 naming the flag', async () => {
    const { status, error } = await postBinary(ts.url, 1001);
    assert.equal(status, 413);
    assert.match(error, /hold 1001 elements, more than the limit of 1000 \(--max-request-elements\)/);
    await stillServes(ts);
  });

  test('HTTP binary: BYTES elements over --max-request-memory is 413 naming the flag (256 bytes an element)', async () => {
    const { status, error } = await postBinary(ts.url, 1000); // 1000 * 256 + 4000 bytes > 250000
    assert.equal(status, 413);
    assert.match(error, /would take 260000 bytes once decoded .* more than the limit of 250000 \(--max-request-memory\)/);
    assert.equal((await postBinary(ts.url, 900)).status, 200); // 900 * 256 + 3600 fits
  });

  test('HTTP JSON: a body of more values than a request may have elements is refused before it is parsed', async () => {
    const data = new Array(70_000).fill('');
    const res = await fetch(`${ts.url}/v2/models/simple_identity/infer`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, data.length], data }] }),
    });
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: string }).error, /more than 66536 values.*\(--max-request-elements\)/);
  });

  test('gRPC: raw BYTES elements over the budget, plain and gzip-compressed, are RESOURCE_EXHAUSTED naming the flag', async () => {
    const plain = await rawGrpcCall(session, kInfer, emptyBytesRequest(1001));
    assert.equal(plain.status, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(plain.message, /\(--max-request-elements\)/);
    const zipped = await rawGrpcCall(session, kInfer, zlib.gzipSync(emptyBytesRequest(1001)), 'gzip');
    assert.equal(zipped.status, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(zipped.message, /\(--max-request-elements\)/);
    await stillServes(ts);
  });

  test('gRPC: a bytes_contents list longer than a request may hold stops the reader (RESOURCE_EXHAUSTED)', async () => {
    const msg = encodeGrpcInferRequest('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], data: [] }], {});
    msg.raw_input_contents = [];
    msg.inputs[0].contents = { bytes_contents: new Array(70_000).fill(Buffer.alloc(0)) };
    const answer = await rawGrpcCall(session, kInfer, encodeModelInferRequest(msg));
    assert.equal(answer.status, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(answer.message, /holds more than 66536 values.*\(--max-request-elements\)/);
  });

  test('gRPC: a gzip bomb stops at --grpc-max-message-size, on the direct route and through grpc-js', async () => {
    const bomb = zlib.gzipSync(emptyBytesRequest(1_000_000), { level: 1 }); // 4 MB inflated, a few KB sent
    assert.ok(bomb.length < 64 * 1024);
    const direct = await rawGrpcCall(session, kInfer, bomb, 'gzip');
    assert.equal(direct.status, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(direct.message, /decompresses to more than 1048576 bytes \(--grpc-max-message-size\)/);
    // A stream goes through grpc-js, which inflates with the same limit.
    const client = new GrpcClient(ts.grpcAddress, { channelOptions: { 'grpc.default_compression_algorithm': 2 } });
    try {
      const stream = client.stream();
      stream.sendMessage(emptyBytesRequest(1_000_000));
      await assert.rejects(stream.next(), /RESOURCE_EXHAUSTED|decompresses to a size larger than 1048576/);
    } finally {
      client.close();
    }
    await stillServes(ts);
  });

  test('gRPC stream: a request over the budget answers an error naming the flag, and the stream goes on', async () => {
    const stream = ts.grpc.stream();
    stream.sendMessage(emptyBytesRequest(1001));
    stream.send('simple', simpleInputs(1, 5), { id: 'after' });
    const first = await stream.next();
    assert.match(first.error ?? '', /\(--max-request-elements\)/);
    const second = await stream.next();
    assert.equal(second.error, null);
    assert.equal(second.id, 'after');
    await stream.end();
  });

  test('shared memory: a BYTES input over --max-request-memory is refused before the region is read', async () => {
    const key = `/${uniqueShmName('budget')}`;
    const region = SharedMemoryRegion.create(key, 1 << 20);
    try {
      await ts.client.registerSystemSharedMemory('budget', key, 1 << 20);
      const res = await fetch(`${ts.url}/v2/models/simple_identity/infer`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 100], parameters: { shared_memory_region: 'budget', shared_memory_byte_size: 1 << 20 } }] }),
      });
      assert.equal(res.status, 413);
      assert.match(((await res.json()) as { error: string }).error, /would take 1074176 bytes once decoded.*\(--max-request-memory\)/);
    } finally {
      await ts.client.unregisterSystemSharedMemory('budget');
      region.destroy();
    }
  });

  /** Sends a chunked POST of `chunks` one-byte chunks on a bare socket; resolves to the status line. */
  function chunkFlood(port: number, chunks: number, body: (i: number) => string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => {
        answer += d.toString('latin1');
        if (answer.includes('\r\n')) {
          resolve(answer.slice(0, answer.indexOf('\r\n')));
          socket.destroy();
        }
      });
      socket.on('error', (err) => (answer ? resolve(answer) : reject(err)));
      socket.write('POST /v2/models/simple_identity/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const parts: string[] = [];
      for (let i = 0; i < chunks; i++) parts.push(`1\r\n${body(i)}\r\n`);
      socket.write(parts.join(''));
      socket.write('0\r\n\r\n');
    });
  }

  test('HTTP: a chunked body of more than 65,536 chunks is 413; one of fewer is read whole', async () => {
    assert.match(await chunkFlood(ts.server.httpPort!, 70_000, () => ' '), /^HTTP\/1\.1 413 /);
    const json = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], data: ['chunks'] }] });
    assert.match(await chunkFlood(ts.server.httpPort!, json.length, (i) => json[i]), /^HTTP\/1\.1 200 /);
    await stillServes(ts);
  });
});

describe('errors that echo request values stay short', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`]);
  });
  after(async () => {
    await ts?.close();
  });

  test('gRPC: a 100 KB model name gets a short NOT_FOUND, and the same connection answers the next call', async () => {
    const name = 'm'.repeat(100 * 1024);
    for (const options of [{}, { deadline: Date.now() + 60_000 }]) { // the direct route, then grpc-js
      await assert.rejects(ts.grpc.modelInfer(encodeGrpcInferRequest(name, simpleInputs()), options), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.NOT_FOUND);
        assert.ok(err.details.length < 200, `${err.details.length} characters`);
        assert.match(err.details, /^Request for unknown model: 'm{64}… \(102400 characters\)' is not found$/);
        return true;
      });
      await stillServes(ts);
    }
  });

  test('HTTP: a 1 MiB request id does not come back in the error body', async () => {
    const id = 'i'.repeat(1 << 20);
    const res = await fetch(`${ts.url}/v2/models/simple/infer`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id, inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(0) }] }),
    });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.ok(text.length < 400, `${text.length} bytes`);
    assert.match(text, /\[request id: i{64}… \(1048576 characters\)\]/);
  });
});

describe('the default limits', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`]);
  });
  after(async () => {
    await ts?.close();
  });

  test("gRPC: issue 13's 24M empty BYTES elements, gzip-compressed (about 93 KB sent), are RESOURCE_EXHAUSTED", async () => {
    const bomb = zlib.gzipSync(emptyBytesRequest(24_000_000), { level: 1 });
    const session = http2.connect(`http://${ts.grpcAddress}`);
    try {
      const answer = await rawGrpcCall(session, kInfer, bomb, 'gzip');
      assert.equal(answer.status, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(answer.message, /decompresses to more than 67108864 bytes \(--grpc-max-message-size\)/);
    } finally {
      session.close();
    }
    await stillServes(ts);
  });

  test('HTTP: 1.1M empty BYTES elements (4.4 MB) are refused from the header by --max-request-memory', async () => {
    const { status, error } = await postBinary(ts.url, 1_100_000);
    assert.equal(status, 413);
    assert.match(error, /\(--max-request-memory\)/);
  });
});
