/**
 * What a model version's scheduler offers the front-ends (Triton's three calls).
 */
import type { InferOutput, InferRequest } from '../inference/infer-request.ts';

export interface InferResponse {
  readonly id: string | undefined;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly outputs: readonly InferOutput[];
}

export interface Scheduler {
  /** Runs a checked request; resolves with its outputs or rejects with a ServerError. */
  enqueue(request: InferRequest): Promise<InferResponse>;
  /** Requests accepted and not yet answered. */
  inflightCount(): number;
  /** Requests accepted and not yet handed to an instance (optional: a scheduler without a queue has none). */
  pendingCount?(): number;
  /** Lets in-flight requests finish, then releases the instances. */
  stop(): Promise<void>;
}
