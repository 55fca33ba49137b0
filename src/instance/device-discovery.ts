/**
 * Finds the GPUs on this machine, once, with systeminformation (NVIDIA controllers, numbered in
 * the order the driver lists them). `--gpus` style overrides can replace the result.
 */
import si from 'systeminformation';

export interface GpuInfo {
  readonly id: number;
  readonly name: string;
  readonly uuid: string | undefined;
  readonly memoryTotalBytes: number | undefined;
}

let cached: Promise<GpuInfo[]> | undefined;

export function discoverGpus(): Promise<GpuInfo[]> {
  cached ??= si.graphics().then(
    (g) => g.controllers
      .filter((c) => /nvidia/i.test(c.vendor ?? '') || /nvidia/i.test(c.model ?? ''))
      .map((c, i) => ({
        id: i,
        name: c.model ?? c.name ?? 'GPU',
        uuid: (c as { uuid?: string }).uuid,
        memoryTotalBytes: c.memoryTotal ? c.memoryTotal * 1024 * 1024 : c.vram ? c.vram * 1024 * 1024 : undefined,
      })),
    () => [],
  );
  return cached;
}
