/**
 * Reads the machine's CPU, memory and GPU figures every --metrics-interval-ms, for the nv_cpu_*
 * and nv_gpu_* gauges. Scrapes read the latest readings; nothing here runs per request.
 *
 * Nothing here may block the primary thread, where every batcher runs: memory comes from
 * systeminformation (which reads /proc/meminfo asynchronously; used is total minus available,
 * as in Triton), but CPU utilization is computed here from /proc/stat (busy and idle ticks since
 * the previous reading, as Triton does), read asynchronously, because systeminformation's
 * currentLoad() runs `cat /proc/stat | grep cpu` through execSync on Linux; and GPUs are read by
 * running nvidia-smi asynchronously, because its graphics() runs nvidia-smi synchronously. Each
 * would stall every model's scheduling for the length of a process spawn, every interval.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';

interface CpuReading {
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

interface MonitorOptions {
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
  /** CPU ticks at the previous reading. */
  private lastTicks: CpuTicks = { busy: 0, idle: 0 };

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
      const [ticks, mem] = await Promise.all([cpuTicks(), si.mem()]);
      const busy = ticks.busy - this.lastTicks.busy;
      const total = busy + ticks.idle - this.lastTicks.idle;
      this.lastTicks = ticks;
      this.cpu = {
        utilization: total > 0 ? Math.min(1, Math.max(0, busy / total)) : 0,
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

interface CpuTicks {
  readonly busy: number;
  readonly idle: number;
}

/** All cores' busy and idle ticks since boot: /proc/stat's `cpu` line where there is one, else os.cpus(). */
async function cpuTicks(): Promise<CpuTicks> {
  try {
    return procStatTicks(await readFile('/proc/stat', 'utf8'));
  } catch {
    const all = os.cpus().map((c) => c.times);
    const idle = all.reduce((n, t) => n + t.idle, 0);
    return { busy: all.reduce((n, t) => n + t.user + t.nice + t.sys + t.irq, 0), idle };
  }
}

/** The `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal …; idle counts iowait too. */
export function procStatTicks(text: string): CpuTicks {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no cpu line');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user + nice + system + (irq || 0) + (softirq || 0) + (steal || 0), idle: idle + (iowait || 0) };
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
