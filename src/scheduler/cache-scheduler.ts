/**
 * A model version's scheduler with the response cache in front (response_cache { enable: true }
 * and --cache-config): a request whose key is in the cache is answered from it at once, without
 * the queue or an instance; any other goes to the version's own scheduler, and its successful
 * response is stored. Statistics as Triton's: a hit counts as a success (and a queue entry of its
 * lookup wait) with `cache_hit` its lookup time, but not as an inference or an execution; a miss
 * adds its lookup and insertion time to `cache_miss` and to the request's duration.
 */
import type { ServerError } from '../errors.ts';
import type { EnqueueOptions, InferRequest, InferResponse } from '../inference/index.ts';
import type { ModelStatistics } from '../observability/index.ts';
import { cacheKey, type ResponseCache } from './response-cache.ts';
import type { Scheduler } from './scheduler.ts';

export class CacheScheduler implements Scheduler {
  constructor(
    private readonly model: string,
    private readonly version: number,
    /** The version's own scheduler, which runs every miss. */
    readonly inner: Scheduler,
    private readonly cache: ResponseCache,
    private readonly stats: ModelStatistics,
  ) {
    stats.cacheEnabled = true;
  }

  async enqueue(request: InferRequest, options?: EnqueueOptions): Promise<InferResponse> {
    const receivedNs = process.hrtime.bigint();
    const key = cacheKey(this.model, this.version, request);
    if (key === null) return this.inner.enqueue(request, options);
    const lookupStartNs = process.hrtime.bigint();
    const cached = this.cache.lookup(key);
    if (cached !== undefined) {
      const response: InferResponse = { id: request.id, modelName: this.model, modelVersion: this.version, outputs: cached.outputs };
      const doneNs = process.hrtime.bigint();
      this.stats.cacheHitServed(receivedNs, lookupStartNs, doneNs);
      return response;
    }
    const lookupNs = Number(process.hrtime.bigint() - lookupStartNs);
    const response = await this.inner.enqueue(request, options);
    const insertStartNs = process.hrtime.bigint();
    this.cache.insert(key, response.outputs);
    this.stats.cacheMissed(lookupNs + Number(process.hrtime.bigint() - insertStartNs));
    return response;
  }

  inflightCount(): number {
    return this.inner.inflightCount();
  }

  pendingCount(): number {
    return this.inner.pendingCount();
  }

  idle(): Promise<void> {
    return this.inner.idle();
  }

  failQueued(error: ServerError): void {
    this.inner.failQueued(error);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}
