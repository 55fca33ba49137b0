/**
 * The tuner's choice, kept pure: the Pareto front of throughput against p99 latency, and the
 * recommendation (the highest throughput whose p99 fits the latency budget).
 */

/** A measured candidate as the front and the recommendation see it. */
export interface Outcome {
  readonly key: string;
  /** Inferences per second. */
  readonly throughput: number;
  readonly p99Ms: number;
}

/**
 * The candidates no other beats on both counts (at least as much throughput and at most the
 * p99, better on one), sorted by p99 ascending. Outcomes without figures (a failed candidate)
 * are never on the front.
 */
export function paretoFront<T extends Outcome>(outcomes: readonly T[]): T[] {
  const ok = outcomes.filter((o) => Number.isFinite(o.throughput) && Number.isFinite(o.p99Ms) && o.throughput > 0);
  const dominated = (a: T) => ok.some((b) => b !== a && b.throughput >= a.throughput && b.p99Ms <= a.p99Ms && (b.throughput > a.throughput || b.p99Ms < a.p99Ms));
  return ok.filter((a) => !dominated(a)).sort((a, b) => a.p99Ms - b.p99Ms || b.throughput - a.throughput);
}

/**
 * The highest throughput whose p99 is within `budgetMs` (no budget: the highest throughput);
 * ties go to the lower p99. null when no candidate fits.
 */
export function recommend<T extends Outcome>(outcomes: readonly T[], budgetMs: number | null): T | null {
  const fits = paretoFront(outcomes).filter((o) => budgetMs === null || o.p99Ms <= budgetMs);
  if (fits.length === 0) return null;
  return fits.reduce((a, b) => (b.throughput > a.throughput || (b.throughput === a.throughput && b.p99Ms < a.p99Ms) ? b : a));
}
