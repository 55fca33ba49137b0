/**
 * The direct scheduler, for a model without dynamic_batching (Triton's default scheduler): each
 * request runs alone, on the first free instance, in arrival order while every instance is busy.
 * There are no queue policies, priorities or timeouts here; those belong to the dynamic batcher.
 */
import type { InferRequest } from '../inference/index.ts';
import { QueuedScheduler, type Placement } from './queued-scheduler.ts';

const ONE_LEVEL: Placement = { level: 1, deadlineUs: Infinity };

export class DirectScheduler extends QueuedScheduler {
  protected place(_request: InferRequest): Placement {
    return ONE_LEVEL;
  }

  /** Nothing to wait for: a request leaves at once when an instance is free. */
  protected onQueued(): void {
    this.schedule();
  }

  protected schedule(): void {
    while (this.queue.size > 0) {
      const instance = this.instances.pickFree();
      if (!instance) return;
      this.dispatch(instance, this.queue.take(1));
    }
  }
}
