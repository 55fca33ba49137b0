/**
 * The Prometheus endpoint: `GET /metrics` on its own port (--metrics-port, default 8002), as in
 * Triton. One prom-client registry per server (never the global one, so several servers can run
 * in one process): the model families (metrics-model-families.ts) plus the CPU and GPU gauges,
 * read from the system monitor's latest readings at scrape time.
 *
 * A plain node:http server: the endpoint has one route, and scrapes should not go through the
 * inference front-end's hooks, body parsing or logging.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { LatencyObserver } from '../../observability/index.ts';
import type { ModelRegistry } from '../../repository/index.ts';
import type { MetricsOptions } from '../../cli/index.ts';
import type { GpuReading, SystemMonitor } from '../../observability/index.ts';
import { registerModelFamilies } from './metrics-model-families.ts';

export interface MetricsRegistry {
  readonly prom: Registry;
  /** For each model version's statistics: null unless latency summaries or histograms are on. */
  latencyObserver(model: string, version: number): LatencyObserver | null;
  /** Stops the latency summaries' timers. */
  close(): void;
  /** Adds the nv_cpu_* and (with GPUs) nv_gpu_* gauges, read from `monitor`. */
  addSystemGauges(monitor: SystemMonitor, which: { cpu: boolean; gpu: boolean }): void;
}

export function createMetricsRegistry(registry: ModelRegistry, options: MetricsOptions): MetricsRegistry {
  const prom = new Registry();
  const families = registerModelFamilies(prom, registry, options);
  return {
    prom,
    latencyObserver: families.latencyObserver,
    close: families.close,
    addSystemGauges: (monitor, which) => registerSystemGauges(prom, monitor, which),
  };
}

function registerSystemGauges(prom: Registry, monitor: SystemMonitor, which: { cpu: boolean; gpu: boolean }): void {
  if (which.cpu) registerCpuGauges(prom, monitor);
  if (which.gpu) registerGpuGauges(prom, monitor);
}

function registerCpuGauges(prom: Registry, monitor: SystemMonitor): void {
  const cpuGauge = (name: string, help: string, read: (c: NonNullable<SystemMonitor['cpu']>) => number) => new Gauge({
    name, help, registers: [prom],
    collect() {
      if (monitor.cpu) this.set(read(monitor.cpu));
    },
  });
  cpuGauge('nv_cpu_utilization', 'Share of all CPU cores busy over the last reading interval, from 0.0 to 1.0', (c) => c.utilization);
  cpuGauge('nv_cpu_memory_total_bytes', 'Memory (RAM) of the machine, in bytes', (c) => c.memoryTotalBytes);
  cpuGauge('nv_cpu_memory_used_bytes', 'Memory (RAM) in use: total minus available, in bytes', (c) => c.memoryUsedBytes);
}

function registerGpuGauges(prom: Registry, monitor: SystemMonitor): void {
  const gpuGauge = (name: string, help: string, read: (g: GpuReading) => number) => new Gauge({
    name, help, labelNames: ['gpu_uuid'], registers: [prom],
    collect() {
      this.reset();
      for (const g of monitor.gpus) this.set({ gpu_uuid: g.uuid }, read(g));
    },
  });
  gpuGauge('nv_gpu_utilization', 'Share of time the GPU was busy over the last sample, from 0.0 to 1.0', (g) => g.utilization);
  gpuGauge('nv_gpu_memory_total_bytes', 'Memory of the GPU, in bytes', (g) => g.memoryTotalBytes);
  gpuGauge('nv_gpu_memory_used_bytes', 'GPU memory in use, in bytes', (g) => g.memoryUsedBytes);
  gpuGauge('nv_gpu_power_usage', 'Power the GPU draws now, in watts', (g) => g.powerUsageWatts);
  gpuGauge('nv_gpu_power_limit', 'Power limit the GPU is held to, in watts', (g) => g.powerLimitWatts);
  new Counter({
    name: 'nv_energy_consumption',
    help: 'Energy the GPU used since the server started, in joules',
    labelNames: ['gpu_uuid'],
    registers: [prom],
    collect() {
      this.reset();
      for (const g of monitor.gpus) this.inc({ gpu_uuid: g.uuid }, g.energyJoules);
    },
  });
}

export interface MetricsServer {
  /** The port listened on (the chosen one when 0 was asked). */
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format) on `address:port`; anything else is 404. */
export async function startMetricsServer(prom: Registry, address: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not Found"}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET' }).end('{"error":"Method Not Allowed"}');
      return;
    }
    prom.metrics().then(
      (text) => res.writeHead(200, { 'content-type': prom.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `metrics failed: ${err.message}` })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // scrapers keep connections alive; they must not hold shutdown
    }),
  };
}
