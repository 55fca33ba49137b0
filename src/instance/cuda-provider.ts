/**
 * Whether onnxruntime-node can use its CUDA execution provider on this machine. The npm package
 * lists 'cuda' among its backends but does not bundle it: the provider's library is present only
 * where it was installed beside the binding (onnxruntime-node's install step, which this project
 * turns off). The binding is loaded on first ask only, since the primary thread runs no sessions.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

let cached: Promise<boolean> | undefined;

/** Resolves true when the CUDA execution provider is bundled or installed; asked once, then cached. */
export function cudaProviderPresent(): Promise<boolean> {
  cached ??= (async () => {
    try {
      const ort = await import('onnxruntime-node');
      const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
      if (!cuda) return false;
      if (cuda.bundled) return true;
      const main = createRequire(import.meta.url).resolve('onnxruntime-node');
      const dir = path.join(path.dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
      return existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
    } catch {
      return false;
    }
  })();
  return cached;
}
