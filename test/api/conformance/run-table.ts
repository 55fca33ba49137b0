/**
 * Declares one test per conformance case (good requests once per encoding) for a driver.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CASES } from './cases.ts';
import type { Driver } from './drivers.ts';

export function runTable(driver: Driver): void {
  for (const c of CASES) {
    if ('answer' in c.expect) {
      const { answer } = c.expect;
      for (const encoding of driver.encodings) {
        test(`${c.title} (${encoding})`, async () => {
          const reply = await driver.send(c, encoding);
          assert.ok('answer' in reply, `refused: ${'refusal' in reply ? reply.refusal.message : ''}`);
          assert.equal(reply.answer.id, answer.id);
          assert.equal(reply.answer.model, c.model);
          assert.equal(reply.answer.version, answer.version);
          assert.deepEqual(reply.answer.outputs, answer.outputs);
        });
      }
    } else {
      const [status, message] = c.expect.refusal[driver.transport];
      const name = driver.transport === 'grpc' ? grpc.status[status] : String(status);
      test(`refuses ${c.title} with ${name} and a message that says why`, async () => {
        const reply = await driver.send(c, driver.encodings[0]);
        assert.ok('refusal' in reply, 'answered a request it should refuse');
        assert.equal(reply.refusal.status, status, reply.refusal.message);
        assert.match(reply.refusal.message, message);
        // Never the request's data back.
        assert.ok(!reply.refusal.message.includes('0,1,2,3,4,5'), reply.refusal.message);
      });
    }
  }

  test('still serves a good request after refusing the bad ones', async () => {
    const good = CASES.find((c) => 'answer' in c.expect && c.model === 'simple')!;
    const reply = await driver.send(good, driver.encodings[0]);
    assert.ok('answer' in reply && 'answer' in good.expect);
    assert.deepEqual(reply.answer.outputs, good.expect.answer.outputs);
  });
}
