import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendModuleUrl, registerBackend } from '../../../src/workers/index.ts';

const fixture = new URL('../../fixtures/backends/crash-backend.ts', import.meta.url);

describe('the backend registry', () => {
  test('knows onnxruntime from the start, as a module next to the registry', () => {
    assert.match(backendModuleUrl('onnxruntime'), /^file:\/\/.*\/src\/workers\/backends\/onnxruntime\.(ts|js)$/);
  });

  test('names the unknown backend and the known ones', () => {
    assert.throws(() => backendModuleUrl('tensorrt'), { message: /^backend 'tensorrt' is not known; the backends here are: onnxruntime/ });
  });

  test('resolves a registered backend to its module URL, and takes the same URL twice', () => {
    registerBackend('registry_test', fixture);
    registerBackend('registry_test', fixture.href);
    assert.equal(backendModuleUrl('registry_test'), fixture.href);
  });

  const refused: { name: string; backend: string; url: string | URL; error: RegExp }[] = [
    { name: 'a name with other characters', backend: 'my-backend', url: fixture, error: /^backend name must be letters, digits and underscores \(got 'my-backend'\)$/ },
    { name: 'an empty name', backend: '', url: fixture, error: /^backend name must be letters/ },
    { name: 'a module that is not a URL', backend: 'relative', url: './crash-backend.ts', error: /^backend 'relative': module must be a file: URL \(got '\.\/crash-backend\.ts'\)$/ },
    { name: 'a module that is not a file', backend: 'remote', url: 'https://example.com/b.js', error: /^backend 'remote': module must be a file: URL \(got 'https:\/\/example\.com\/b\.js'\)$/ },
    { name: 'the built-in name', backend: 'onnxruntime', url: fixture, error: /^backend 'onnxruntime' is built in and cannot be replaced$/ },
  ];
  for (const c of refused) {
    test(`refuses ${c.name}`, () => {
      assert.throws(() => registerBackend(c.backend, c.url), { message: c.error });
    });
  }

  test('refuses a name already bound to another module, and keeps the first', () => {
    registerBackend('bound_once', fixture);
    const other = new URL('./other.ts', fixture);
    assert.throws(() => registerBackend('bound_once', other), { message: `backend 'bound_once' is already registered, to ${fixture.href}` });
    assert.equal(backendModuleUrl('bound_once'), fixture.href);
  });
});
