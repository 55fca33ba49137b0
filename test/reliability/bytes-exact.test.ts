/**
 * Issue 13: BYTES elements are exact or refused, never changed. onnxruntime-node carries an
 * element exactly when it is UTF-8 without a NUL byte (measured: a NUL ends the element, invalid
 * UTF-8 comes back as U+FFFD). Every byte value 0–255 goes over each transport (HTTP binary,
 * HTTP JSON, gRPC raw contents, gRPC bytes_contents, system shared memory) to `string_identity`
 * (an ONNX identity):
 * the elements it can carry come back byte for byte; one it cannot is refused with 400 /
 * INVALID_ARGUMENT naming the input and the element's index, and nothing is run. A backend that
 * carries raw bytes (the JavaScript `simple_identity`) takes every element, whatever its bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcInferRequest, SharedMemoryRegion } from '../../src/client/index.ts';
import { decodeBytesElements, encodeBytesElements } from '../../src/bytes-elements.ts';
import { repositoryOf } from '../helpers/server.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';
import { removeAll, uniqueShmName } from '../helpers/shm.ts';

/** Bytes 1–127 alone, and every UTF-8 form that uses the bytes 0x80–0xF4 (valid text). */
function carriedElements(): Buffer[] {
  const single = Array.from({ length: 127 }, (_, i) => Buffer.from([i + 1]));
  // U+0080..U+07FF (2 bytes: leads C2..DF, continuations 80..BF), a 3-byte and a 4-byte run
  // (leads E0..EF, F0..F4), so every byte that appears in valid UTF-8 is sent.
  const chars = [0x80, 0xbf, 0xff, 0x100, 0x7ff, 0x800, 0xffff, 0x10000, 0x10ffff];
  for (let lead = 0xc2; lead <= 0xdf; lead++) chars.push(((lead & 0x1f) << 6) | 0x3f);
  for (let lead = 0xe0; lead <= 0xef; lead++) chars.push(((lead & 0x0f) << 12) | 0xa3f);
  for (let lead = 0xf0; lead <= 0xf4; lead++) chars.push(((lead & 0x07) << 18) || 0x10000);
  const multi = chars.map((c) => Buffer.from(String.fromCodePoint(c), 'utf8'));
  return [...single, ...multi, Buffer.from('a\u00ff\u{1f600}z', 'utf8'), Buffer.alloc(0)];
}

/** Byte values no element of valid UTF-8 text without NUL may hold alone: 0 and 0x80–0xFF. */
const refusedBytes = [0, ...Array.from({ length: 128 }, (_, i) => 0x80 + i)];

/** Checks that every byte 0–255 is covered: each either carried by some element or refused. */
test('the test covers every byte value', () => {
  const seen = new Set<number>();
  for (const e of carriedElements()) for (const b of e) seen.add(b);
  for (const b of refusedBytes) seen.add(b);
  assert.equal(seen.size, 256);
});

describe('BYTES elements over every transport', () => {
  let ts: GrpcTestServer;
  let region: SharedMemoryRegion;
  const elements = carriedElements();
  const payload = encodeBytesElements(elements.map((e) => e.toString('latin1')), 'binary');
  const shape = [1, elements.length];
  /** A request whose element 2 is [0x41, b, 0x42], b alone invalid. */
  const withBad = (b: number) => [Buffer.from('ok'), Buffer.from('fine'), Buffer.from([0x41, b, 0x42])];
  const refusal = (b: number) => new RegExp(`input 'INPUT0': BYTES element 2 ${b === 0 ? 'contains a NUL byte' : 'is not valid UTF-8'}`);

  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('string_identity')}`, '--allow-client-shm=true']);
    const key = `/${uniqueShmName('bytes')}`;
    region = SharedMemoryRegion.create(key, 64 * 1024);
    await ts.client.registerSystemSharedMemory('bytes', key, 64 * 1024);
  });
  after(async () => {
    region?.destroy();
    await ts?.close();
    removeAll();
  });

  const httpBinary = (raw: Buffer, dims: number[]) => {
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: dims, parameters: { binary_data_size: raw.length } }],
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
    }));
    return fetch(`${ts.url}/v2/models/string_identity/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' },
      body: Buffer.concat([header, raw]),
    });
  };
  /** The OUTPUT0 bytes of a binary answer. */
  const binaryOutput = async (res: Response): Promise<Buffer> => {
    assert.equal(res.status, 200, await res.clone().text());
    const body = Buffer.from(await res.arrayBuffer());
    return body.subarray(Number(res.headers.get('inference-header-content-length')));
  };

  test('HTTP binary: every element comes back byte for byte', async () => {
    assert.deepEqual(await binaryOutput(await httpBinary(payload, shape)), payload);
  });

  test('HTTP binary: an element with a NUL byte or a byte that is not UTF-8 is refused with its index', async () => {
    await Promise.all(refusedBytes.map(async (b) => {
      const res = await httpBinary(encodeBytesElements(withBad(b).map((e) => e.toString('latin1')), 'binary'), [1, 3]);
      assert.equal(res.status, 400, `byte ${b}`);
      assert.match(((await res.json()) as { error: string }).error, refusal(b));
    }));
  });

  test('HTTP JSON: every element comes back exactly, in JSON and in binary', async () => {
    const texts = elements.map((e) => e.toString('utf8'));
    const res = await fetch(`${ts.url}/v2/models/string_identity/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape, data: texts }] }),
    });
    assert.equal(res.status, 200);
    const answer = (await res.json()) as { outputs: { data: string[] }[] };
    assert.deepEqual(answer.outputs[0].data, texts);
  });

  test('HTTP JSON: a NUL character or a lone surrogate is refused with its index', async () => {
    for (const [bad, why] of [['a\u0000b', 'contains a NUL character'], ['\ud800', 'is not valid Unicode']] as const) {
      const res = await fetch(`${ts.url}/v2/models/string_identity/infer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], data: ['ok', bad] }] }),
      });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, new RegExp(`input 'INPUT0': BYTES element 1 ${why}`));
    }
  });

  test('HTTP JSON: a body that is not UTF-8 is refused, not decoded with replacement characters', async () => {
    const body = Buffer.concat([Buffer.from('{"inputs":[{"name":"INPUT0","datatype":"BYTES","shape":[1,1],"data":["'), Buffer.from([0xff]), Buffer.from('"]}]}')]);
    const res = await fetch(`${ts.url}/v2/models/string_identity/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /not valid UTF-8/);
  });

  const grpcRequest = (raw: Buffer | null, list: Buffer[] | null, dims: number[]) => {
    const msg = encodeGrpcInferRequest('string_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: dims, data: [] }], {});
    if (raw) msg.raw_input_contents = [raw];
    if (list) {
      msg.raw_input_contents = [];
      msg.inputs[0].contents = { bytes_contents: list };
    }
    return msg;
  };

  test('gRPC raw contents and bytes_contents: every element comes back byte for byte', async () => {
    const viaRaw = await ts.grpc.modelInfer(grpcRequest(payload, null, shape));
    assert.deepEqual(Buffer.from(viaRaw.raw_output_contents[0]), payload);
    const viaList = await ts.grpc.modelInfer(grpcRequest(null, elements, shape));
    assert.deepEqual(Buffer.from(viaList.raw_output_contents[0]), payload);
  });

  test('gRPC raw contents and bytes_contents: a bad element is INVALID_ARGUMENT with its index', async () => {
    await Promise.all(refusedBytes.flatMap((b) => {
      const bad = withBad(b);
      return [grpcRequest(encodeBytesElements(bad.map((e) => e.toString('latin1')), 'binary'), null, [1, 3]), grpcRequest(null, bad, [1, 3])].map((msg) =>
        assert.rejects(ts.grpc.modelInfer(msg), (err: grpc.ServiceError) => {
          assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `byte ${b}`);
          assert.match(err.details, refusal(b));
          return true;
        }));
    }));
  });

  /** Infers on `bytes` written into the region at `offset` (a request's own place in it). */
  const shmInfer = (bytes: Buffer, dims: number[], offset = 0) => {
    region.write(bytes, offset);
    return fetch(`${ts.url}/v2/models/string_identity/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: dims, parameters: { shared_memory_region: 'bytes', shared_memory_byte_size: bytes.length, shared_memory_offset: offset } }],
        outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
      }),
    });
  };

  test('shared memory: every element comes back byte for byte, and a bad one is refused with its index', async () => {
    assert.deepEqual(await binaryOutput(await shmInfer(payload, shape)), payload);
    await Promise.all(refusedBytes.map(async (b) => {
      const res = await shmInfer(encodeBytesElements(withBad(b).map((e) => e.toString('latin1')), 'binary'), [1, 3], 8192 + b * 64);
      assert.equal(res.status, 400, `byte ${b}`);
      assert.match(((await res.json()) as { error: string }).error, refusal(b));
    }));
  });
});

describe('BYTES elements to a backend that carries raw bytes (the JavaScript simple_identity)', () => {
  let ts: GrpcTestServer;
  let region: SharedMemoryRegion;
  // Every byte value alone, the elements the ONNX identity refuses, and an empty one.
  const elements = [
    ...Array.from({ length: 256 }, (_, b) => Buffer.from([b])),
    Buffer.from('he\x00llo', 'latin1'), Buffer.from([0xff, 0xfe]), Buffer.from(Array.from({ length: 256 }, (_, b) => b)), Buffer.alloc(0),
  ];
  const payload = encodeBytesElements(elements.map((e) => e.toString('latin1')), 'binary');
  const shape = [1, elements.length];

  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple_identity')}`, '--allow-client-shm=true']);
    const key = `/${uniqueShmName('rawbytes')}`;
    region = SharedMemoryRegion.create(key, 64 * 1024);
    await ts.client.registerSystemSharedMemory('rawbytes', key, 64 * 1024);
  });
  after(async () => {
    region?.destroy();
    await ts?.close();
    removeAll();
  });

  const binaryOutput = async (res: Response): Promise<Buffer> => {
    assert.equal(res.status, 200, await res.clone().text());
    const body = Buffer.from(await res.arrayBuffer());
    return body.subarray(Number(res.headers.get('inference-header-content-length')));
  };

  test('HTTP binary: every element comes back byte for byte', async () => {
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape, parameters: { binary_data_size: payload.length } }],
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
    }));
    const res = await fetch(`${ts.url}/v2/models/simple_identity/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' },
      body: Buffer.concat([header, payload]),
    });
    assert.deepEqual(await binaryOutput(res), payload);
  });

  test('gRPC raw contents and bytes_contents: every element comes back byte for byte', async () => {
    const viaRaw = encodeGrpcInferRequest('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape, data: [] }], {});
    viaRaw.raw_input_contents = [payload];
    assert.deepEqual(Buffer.from((await ts.grpc.modelInfer(viaRaw)).raw_output_contents[0]), payload);
    const viaList = encodeGrpcInferRequest('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape, data: [] }], {});
    viaList.raw_input_contents = [];
    viaList.inputs[0].contents = { bytes_contents: elements };
    assert.deepEqual(Buffer.from((await ts.grpc.modelInfer(viaList)).raw_output_contents[0]), payload);
  });

  test('shared memory: every element comes back byte for byte', async () => {
    region.write(payload, 0);
    const res = await fetch(`${ts.url}/v2/models/simple_identity/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape, parameters: { shared_memory_region: 'rawbytes', shared_memory_byte_size: payload.length } }],
        outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
      }),
    });
    assert.deepEqual(await binaryOutput(res), payload);
  });
});

describe('BYTES forms (bytes-elements.ts)', () => {
  test('the binary form carries every byte sequence, and the text form refuses what it cannot carry', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const wire = encodeBytesElements([all.toString('latin1')], 'binary');
    assert.deepEqual(Buffer.from(decodeBytesElements(wire, 1, 'x', 'binary')[0], 'latin1'), all);
    assert.deepEqual(encodeBytesElements(decodeBytesElements(wire, 1, 'x', 'binary'), 'binary'), wire);
    assert.throws(() => decodeBytesElements(wire, 1, 'x', 'text'), /element 0 contains a NUL byte/);
  });
});
