/**
 * What a model version's scheduler offers (Triton's three calls): take a checked request, count
 * what is in flight, stop. Each kind (dynamic batcher, direct; later sequence, ensemble, cache)
 * implements it, and createScheduler (scheduler-factory.ts) picks one from the model's config.
 */
import type { ServerError } from '../errors.ts';
import type { EnqueueOptions, InferRequest, InferResponse } from '../inference/index.ts';

export interface Scheduler {
  /**
   * Runs a checked request; resolves with its outputs or rejects with a ServerError. An aborted
   * `signal` withdraws a request that still waits in the queue (it rejects as CANCELLED); once
   * its batch runs, it runs to the end.
   */
  enqueue(request: InferRequest, options?: EnqueueOptions): Promise<InferResponse>;
  /** Requests accepted and not yet answered. */
  inflightCount(): number;
  /** Requests accepted and not yet handed to an instance (0 for a scheduler without a queue). */
  pendingCount(): number;
  /** Resolves the next time no request is in flight; new requests are still taken meanwhile. */
  idle(): Promise<void>;
  /** Refuses new requests, lets in-flight ones finish, then releases the instances. */
  stop(): Promise<void>;
  /** Answers every request not yet handed to an instance with `error` (shutdown past its timeout). */
  failQueued(error: ServerError): void;
}
