/**
 * Reads the machine's CPU, memory and GPU figures every --metrics-interval-ms, for the nv_cpu_*
 * and nv_gpu_* gauges. Scrapes read the latest readings; nothing here runs per request.
 *
 * CPU and memory come from systeminformation (utilization since the previous reading; used
 * memory is total minus available, as Triton reads /proc/meminfo). GPUs are read by running
 * nvidia-smi asynchronously, not through systeminformation's graphics(), which runs nvidia-smi
 * synchronously and would stall the primary thread (and so every batcher) for the length of
 * the call, every interval.
 */
import { execFile } from 'node:child_process';
import si from 'systeminformation';

export interface CpuReading {
  /** 0.0 to 1.0 over the last interval, all cores together. */
  readonly utilization: number;
  readonly memoryTotalBytes: number;
  readonly memoryUsedBytes: number;
}

export interface GpuReading {
  readonly uuid: string;
  /** 0.0 to 1.0. */
  readonly utilization: number;
  readonly memoryTotalBytes: number;
  readonly memoryUsedBytes: number;
  readonly powerUsageWatts: number;
  readonly powerLimitWatts: number;
  /** Joules used since the server started. */
  readonly energyJoules: number;
}

export interface MonitorOptions {
  readonly cpu: boolean;
  /** GPU indexes to read (nvidia-smi's numbering); empty: none. */
  readonly gpus: readonly number[];
  readonly intervalMs: number;
}

const GPU_QUERY = 'index,uuid,utilization.gpu,memory.total,memory.used,power.draw,power.limit,total_energy_consumption';
const MIB = 1024 * 1024;

export class SystemMonitor {
  cpu: CpuReading | null = null;
  gpus: readonly GpuReading[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Energy counter (mJ) at the first reading, per GPU: Triton counts from its own start. */
  private readonly energyStartMj = new Map<string, number>();
  private gpuAvailable: boolean;

  private constructor(private readonly options: MonitorOptions) {
    this.gpuAvailable = options.gpus.length > 0;
  }

  /** Takes a first reading (so the first scrape has figures), then reads on every interval. */
  static async start(options: MonitorOptions): Promise<SystemMonitor> {
    const monitor = new SystemMonitor(options);
    await monitor.read();
    monitor.timer = setInterval(() => void monitor.read(), options.intervalMs);
    monitor.timer.unref(); // never keeps the process alive on its own
    return monitor;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async read(): Promise<void> {
    await Promise.all([
      this.options.cpu ? this.readCpu() : undefined,
      this.gpuAvailable ? this.readGpus() : undefined,
    ]);
  }

  private async readCpu(): Promise<void> {
    try {
      const [load, mem] = await Promise.all([si.currentLoad(), si.mem()]);
      this.cpu = {
        utilization: Math.min(1, Math.max(0, load.currentLoad / 100)) || 0,
        memoryTotalBytes: mem.total,
        memoryUsedBytes: mem.total - mem.available,
      };
    } catch {
      // Keep the last reading; a failed read is no reason to stop serving.
    }
  }

  private async readGpus(): Promise<void> {
    const text = await new Promise<string | null>((resolve) => {
      execFile('nvidia-smi', [`--query-gpu=${GPU_QUERY}`, '--format=csv,noheader,nounits'], { timeout: 10_000 }, (err, stdout) => resolve(err ? null : stdout));
    });
    if (text === null) {
      this.gpuAvailable = false; // no nvidia-smi: stop asking every interval
      return;
    }
    this.gpus = parseNvidiaSmi(text).filter((g) => this.options.gpus.includes(g.index)).map((g) => {
      if (!this.energyStartMj.has(g.uuid)) this.energyStartMj.set(g.uuid, g.energyMj);
      const { index: _index, energyMj, ...reading } = g;
      return { ...reading, energyJoules: Math.max(0, (energyMj - this.energyStartMj.get(g.uuid)!) / 1000) };
    });
  }
}

type GpuRow = Omit<GpuReading, 'energyJoules'> & { index: number; energyMj: number };

/** Rows of `nvidia-smi --query-gpu=<GPU_QUERY> --format=csv,noheader,nounits`; N/A reads as 0. */
export function parseNvidiaSmi(text: string): GpuRow[] {
  return text.split('\n').filter((l) => l.trim() !== '').flatMap((line) => {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 8 || !/^\d+$/.test(f[0])) return [];
    const n = (s: string) => (Number.isFinite(Number(s)) && s !== '' ? Number(s) : 0);
    return [{
      index: Number(f[0]),
      uuid: f[1],
      utilization: n(f[2]) / 100,
      memoryTotalBytes: n(f[3]) * MIB,
      memoryUsedBytes: n(f[4]) * MIB,
      powerUsageWatts: n(f[5]),
      powerLimitWatts: n(f[6]),
      energyMj: n(f[7]),
    }];
  });
}
