/**
 * Latency summaries and histograms cheap enough to feed on every request.
 *
 * prom-client's Summary costs about 2 µs an observation (a t-digest insert in each of its age
 * buckets, plus hashing the labels), so five summaries cost about 10 µs a request: measured as
 * a fifth of the throughput of `simple` on 2 cores. Here an observation is one array increment:
 * values go into log-spaced buckets (each 2% wide, so a quantile is within 1% of the true value),
 * one set of counts per age slot, and the slots rotate on a timer to keep a sliding window
 * (Triton's: 60 s in 5 slots). Quantiles are read from the counts at scrape time. Histograms
 * are plain per-bucket counts. Both register on a prom-client Registry as metric objects.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** One line of the exposition, as prom-client's registry formats it. */
interface Sample {
  readonly metricName?: string;
  readonly labels: Labels;
  readonly value: number;
}

/** Relative accuracy of quantiles, and the bucket ratio it implies (DDSketch's γ). */
const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);
/** Bucket 0 holds values below 1; bucket i ≥ 1 holds (γ^(i-2), γ^(i-1)]. 1400 buckets reach past 10^12. */
const BUCKETS = 1400;

function bucketOf(value: number): number {
  if (!(value >= 1)) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.ceil(Math.log(value) / LOG_GAMMA));
}

/** The value a bucket stands for: the middle of its range in relative terms. */
function valueOf(bucket: number): number {
  return bucket === 0 ? 0 : (2 * GAMMA ** (bucket - 1)) / (GAMMA + 1);
}

/** One label set's sliding window of counts, with an all-time sum and count. */
class SummarySeries {
  private readonly slots: Uint32Array[];
  private current = 0;
  private sum = 0;
  private count = 0;

  constructor(readonly labels: Labels, ageSlots: number) {
    this.slots = Array.from({ length: ageSlots }, () => new Uint32Array(BUCKETS));
  }

  observe(value: number): void {
    this.slots[this.current][bucketOf(value)]++;
    this.sum += value;
    this.count++;
  }

  /** Drops the oldest slot's counts and starts filling it afresh. */
  rotate(): void {
    this.current = (this.current + 1) % this.slots.length;
    this.slots[this.current].fill(0);
  }

  /** Samples for the exposition: one per quantile (NaN over an empty window, as prometheus-cpp), _sum, _count. */
  samples(name: string, quantiles: readonly number[]): Sample[] {
    const merged = new Float64Array(BUCKETS);
    let total = 0;
    for (const slot of this.slots) {
      for (let i = 0; i < BUCKETS; i++) merged[i] += slot[i];
    }
    for (let i = 0; i < BUCKETS; i++) total += merged[i];
    const out: Sample[] = quantiles.map((q) => {
      if (total === 0) return { labels: { ...this.labels, quantile: String(q) }, value: NaN };
      const rank = Math.max(1, Math.ceil(q * total));
      let seen = 0;
      let i = 0;
      for (; i < BUCKETS - 1; i++) {
        seen += merged[i];
        if (seen >= rank) break;
      }
      return { labels: { ...this.labels, quantile: String(q) }, value: Math.round(valueOf(i)) };
    });
    out.push({ metricName: `${name}_sum`, labels: this.labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels: this.labels, value: this.count });
    return out;
  }
}

interface SummaryOptions {
  readonly name: string;
  readonly help: string;
  readonly quantiles: readonly number[];
  /** The sliding window, in seconds, kept in `ageSlots` parts (Triton: 60 s, 5). */
  readonly maxAgeSeconds: number;
  readonly ageSlots: number;
}

/** A summary family: `series(labels)` once per model version, then `observe` per request. */
export class LatencySummary {
  private readonly all: SummarySeries[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: SummaryOptions, registry: Registry) {
    this.timer = setInterval(() => {
      for (const s of this.all) s.rotate();
    }, (options.maxAgeSeconds * 1000) / options.ageSlots);
    this.timer.unref();
    registry.registerMetric(this.metric() as never);
  }

  series(labels: Labels): SummarySeries {
    const s = new SummarySeries(labels, this.options.ageSlots);
    this.all.push(s);
    return s;
  }

  /** Stops the window's timer. */
  close(): void {
    clearInterval(this.timer);
  }

  private metric() {
    const { name, help, quantiles } = this.options;
    return {
      name, help, type: 'summary', aggregator: 'sum',
      get: async () => ({ name, help, type: 'summary', aggregator: 'sum', values: this.all.flatMap((s) => s.samples(name, quantiles)) }),
      reset: () => {},
    };
  }
}

/** A histogram family with fixed upper bounds; `series(labels)` once, then `observe`. */
export class LatencyHistogram {
  private readonly all: { labels: Labels; counts: Float64Array; sum: number }[] = [];

  constructor(private readonly name: string, help: string, private readonly bounds: readonly number[], registry: Registry) {
    registry.registerMetric({
      name, help, type: 'histogram', aggregator: 'sum',
      get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: this.samples() }),
      reset: () => {},
    } as never);
  }

  series(labels: Labels): { observe(value: number): void } {
    const s = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0 };
    this.all.push(s);
    const { bounds } = this;
    return {
      observe(value: number) {
        let i = 0;
        while (i < bounds.length && value > bounds[i]) i++;
        s.counts[i]++;
        s.sum += value;
      },
    };
  }

  private samples(): Sample[] {
    return this.all.flatMap((s) => {
      let cumulative = 0;
      const buckets = [...this.bounds, Infinity].map((le, i) => {
        cumulative += s.counts[i];
        return { metricName: `${this.name}_bucket`, labels: { ...s.labels, le: le === Infinity ? '+Inf' : String(le) }, value: cumulative };
      });
      return [...buckets,
        { metricName: `${this.name}_sum`, labels: s.labels, value: s.sum },
        { metricName: `${this.name}_count`, labels: s.labels, value: cumulative }];
    });
  }
}
