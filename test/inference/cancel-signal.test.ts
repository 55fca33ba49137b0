import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelSource, type CancelSignal } from '../../src/inference/index.ts';

describe('CancelSource', () => {
  it('starts not aborted and tells each listener once when aborted', () => {
    const source = new CancelSource();
    const calls: string[] = [];
    source.signal.addEventListener('abort', () => calls.push('a'));
    source.signal.addEventListener('abort', () => calls.push('b'), { once: true });
    assert.equal(source.signal.aborted, false);
    source.abort();
    source.abort();
    assert.equal(source.signal.aborted, true);
    assert.deepEqual(calls, ['a', 'b']);
  });

  it('does not call a listener that was removed, nor one added after the abort', () => {
    const source = new CancelSource();
    let called = 0;
    const listener = () => called++;
    source.signal.addEventListener('abort', listener);
    source.signal.removeEventListener('abort', listener);
    source.abort();
    source.signal.addEventListener('abort', listener);
    assert.equal(called, 0);
  });

  it('has the shape of an AbortSignal, so a caller may pass either', () => {
    const controller = new AbortController();
    const signals: CancelSignal[] = [controller.signal, new CancelSource().signal];
    let heard = 0;
    for (const s of signals) s.addEventListener('abort', () => heard++, { once: true });
    controller.abort();
    assert.equal(heard, 1);
    assert.equal(signals[0].aborted, true);
    assert.equal(signals[1].aborted, false);
  });
});
