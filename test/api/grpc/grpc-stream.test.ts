/**
 * ModelStreamInfer end to end: many requests on one stream, each answered in order with its
 * id; a bad request answered with error_message while the stream goes on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { repositoryOf } from '../../helpers/server.ts';
import { simpleExpected, simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

describe('gRPC ModelStreamInfer', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`]);
  });
  after(() => ts.close());

  test('answers many requests on one stream in order, each with its id', async () => {
    const stream = ts.grpc.stream();
    const n = 40;
    for (let i = 0; i < n; i++) {
      if (i % 4 === 3) {
        stream.send('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], data: [`w${i}`, 'x'] }], { id: `id-${i}`, contents: i % 8 === 3 ? 'typed' : 'raw' });
      } else {
        stream.send('simple', simpleInputs(1 + (i % 3), i), { id: `id-${i}`, contents: i % 2 === 0 ? 'raw' : 'typed' });
      }
    }
    for (let i = 0; i < n; i++) {
      const r = await stream.next();
      assert.equal(r.id, `id-${i}`);
      assert.equal(r.error, null);
      if (i % 4 === 3) {
        assert.deepEqual(r.result!.outputs[0].data, [`w${i}`, 'x']);
      } else {
        assert.equal(r.result!.model_name, 'simple');
        assert.deepEqual(Array.from(r.result!.outputs[0].data as Int32Array), simpleExpected(1 + (i % 3), i).sum);
        assert.deepEqual(Array.from(r.result!.outputs[1].data as Int32Array), simpleExpected(1 + (i % 3), i).difference);
      }
    }
    await stream.end();
  });

  test('answers a bad request with error_message and its id, and keeps the stream open', async () => {
    const stream = ts.grpc.stream();
    stream.send('simple', simpleInputs(), { id: 'good-1' });
    stream.send('nope', simpleInputs(), { id: 'unknown-model' });
    stream.send('simple', [simpleInputs()[0], { ...simpleInputs()[1], shape: [1, 15], data: new Array(15).fill(1) }], { id: 'bad-shape' });
    stream.send('simple', simpleInputs(9), { id: 'too-big' });
    stream.send('simple', simpleInputs(2, 5), { id: 'good-2', outputs: ['OUTPUT1'] });

    assert.equal((await stream.next()).error, null);
    const unknown = await stream.next();
    assert.deepEqual([unknown.id, unknown.error], ['unknown-model', "Request for unknown model: 'nope' is not found"]);
    const badShape = await stream.next();
    assert.equal(badShape.id, 'bad-shape');
    assert.match(badShape.error!, /unexpected shape for input 'INPUT1' for model 'simple'/);
    const tooBig = await stream.next();
    assert.equal(tooBig.id, 'too-big');
    assert.match(tooBig.error!, /batch-size must be <= 8/);
    const good = await stream.next();
    assert.equal(good.id, 'good-2');
    assert.deepEqual(good.result!.outputs.map((o) => o.name), ['OUTPUT1']);
    assert.deepEqual(Array.from(good.result!.outputs[0].data as Int32Array), simpleExpected(2, 5).difference);

    // Still open: a request sent after the errors is answered too.
    stream.send('simple', simpleInputs(), { id: 'after' });
    assert.equal((await stream.next()).id, 'after');
    await stream.end();
  });

  test('answers bytes that are not a ModelInferRequest with error_message, and keeps the stream open', async () => {
    const stream = ts.grpc.stream();
    // A string field whose length runs past the end of the message.
    stream.sendMessage(Buffer.from([0x0a, 0x40, 0x73]));
    stream.send('simple', simpleInputs(1, 4), { id: 'after-garbage' });
    const garbage = await stream.next();
    assert.match(garbage.error!, /^the request is not a ModelInferRequest: message truncated$/);
    const after = await stream.next();
    assert.equal(after.id, 'after-garbage');
    assert.deepEqual(Array.from(after.result!.outputs[0].data as Int32Array), simpleExpected(1, 4).sum);
    await stream.end();
  });

  test('answers hand-made bad messages on the stream without closing it', async () => {
    const stream = ts.grpc.stream();
    stream.sendMessage({ model_name: 'simple', id: 'empty', inputs: [], raw_input_contents: [] });
    stream.sendMessage({
      model_name: 'simple',
      id: 'both',
      inputs: simpleInputs().map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape], parameters: {}, contents: { int_contents: Array.from(t.data as number[]) } })),
      raw_input_contents: [Buffer.alloc(64), Buffer.alloc(64)],
    });
    stream.send('simple', simpleInputs(), { id: 'fine' });
    const empty = await stream.next();
    assert.equal(empty.id, 'empty');
    assert.match(empty.error!, /expected 2 inputs but got 0 inputs for model 'simple'/);
    const both = await stream.next();
    assert.equal(both.id, 'both');
    assert.match(both.error!, /contents field must not be specified when using raw_input_contents/);
    assert.equal((await stream.next()).error, null);
    await stream.end();
  });

  test('serves two streams side by side', async () => {
    const a = ts.grpc.stream();
    const b = ts.grpc.stream();
    for (let i = 0; i < 10; i++) {
      a.send('simple', simpleInputs(1, i), { id: `a${i}` });
      b.send('simple', simpleInputs(1, 100 + i), { id: `b${i}` });
    }
    for (let i = 0; i < 10; i++) {
      const [ra, rb] = await Promise.all([a.next(), b.next()]);
      assert.equal(ra.id, `a${i}`);
      assert.equal(rb.id, `b${i}`);
      assert.deepEqual(Array.from(rb.result!.outputs[0].data as Int32Array), simpleExpected(1, 100 + i).sum);
    }
    await Promise.all([a.end(), b.end()]);
  });

  test('ends cleanly when the client ends a stream it sent nothing on', async () => {
    await ts.grpc.stream().end();
  });
});
