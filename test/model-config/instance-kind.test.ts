import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autoKindNotice, decideInstanceKind, type DeviceOffer, type KindDecision } from '../../src/model-config/instance-kind.ts';

const cpu: KindDecision = { kind: 'KIND_CPU' };
const gpu: KindDecision = { kind: 'KIND_GPU' };
const noGpu = /^KIND_GPU needs a GPU, and none was found on this machine$/;
const noProvider = /^KIND_GPU needs onnxruntime's CUDA execution provider, which is not installed here \(install it as docs\/install\.md#gpu says/;

describe('the device an instance group runs on', () => {
  // kind as written, gpus listed in the group, GPUs offered, provider loadable → decision
  const cases: [string, 'KIND_AUTO' | 'KIND_CPU' | 'KIND_GPU', number[], DeviceOffer, KindDecision | RegExp][] = [
    ['KIND_AUTO with GPUs and the provider takes the GPUs', 'KIND_AUTO', [], { gpus: [0, 1], cudaProvider: true }, gpu],
    ['KIND_AUTO with GPUs but no provider runs on the CPU', 'KIND_AUTO', [], { gpus: [0, 1], cudaProvider: false }, cpu],
    ['KIND_AUTO listing a GPU but without the provider runs on the CPU', 'KIND_AUTO', [1], { gpus: [0, 1], cudaProvider: false }, cpu],
    ['KIND_AUTO listing a GPU with the provider takes it', 'KIND_AUTO', [1], { gpus: [0, 1], cudaProvider: true }, gpu],
    ['KIND_AUTO without GPUs runs on the CPU, provider or not', 'KIND_AUTO', [], { gpus: [], cudaProvider: true }, cpu],
    ['KIND_AUTO on a machine with nothing runs on the CPU', 'KIND_AUTO', [], { gpus: [], cudaProvider: false }, cpu],
    ['KIND_CPU stays on the CPU where GPUs and the provider are', 'KIND_CPU', [], { gpus: [0], cudaProvider: true }, cpu],
    ['KIND_GPU with GPUs and the provider takes a GPU', 'KIND_GPU', [], { gpus: [0], cudaProvider: true }, gpu],
    ['KIND_GPU without the provider fails, saying how to install it', 'KIND_GPU', [], { gpus: [0], cudaProvider: false }, noProvider],
    ['KIND_GPU without GPUs fails, saying none was found', 'KIND_GPU', [], { gpus: [], cudaProvider: true }, noGpu],
    ['KIND_GPU with neither fails on the missing GPU first', 'KIND_GPU', [], { gpus: [], cudaProvider: false }, noGpu],
  ];
  for (const [title, kind, listed, offer, expected] of cases) {
    test(title, () => {
      const decided = decideInstanceKind(kind, listed, offer);
      if (expected instanceof RegExp) {
        assert.equal(decided.kind, 'error');
        assert.match((decided as { message: string }).message, expected);
      } else {
        assert.deepEqual(decided, expected);
      }
    });
  }

  test('says why KIND_AUTO runs on the CPU only where GPUs are found without the provider', () => {
    assert.match(autoKindNotice({ gpus: [0, 1], cudaProvider: false })!, /^found 2 GPUs but not onnxruntime's CUDA execution provider: instance groups of KIND_AUTO \(or no kind\) run on the CPU \(docs\/install\.md#gpu/);
    assert.equal(autoKindNotice({ gpus: [0], cudaProvider: true }), null);
    assert.equal(autoKindNotice({ gpus: [], cudaProvider: false }), null);
  });
});
