/**
 * How a caller tells a scheduler it gave up on a request: the part of AbortSignal a scheduler
 * uses. An AbortSignal is one, and so is CancelSource's signal, which the front-ends make for
 * every request instead. The reason is cost: on Node.js 20 an AbortSignal (an EventTarget) costs
 * about 2.5 µs to create and another 1.5 µs to add and remove a listener (measured with
 * `new AbortController().signal` in a loop), which was 5-8% of `simple`'s whole request path on
 * the primary thread; CancelSource costs an object and an array.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A CancelSignal and its trigger, for one request (single-threaded; listeners run once). */
export class CancelSource implements CancelSignal {
  private listeners: (() => void)[] = [];
  private done = false;

  get aborted(): boolean {
    return this.done;
  }

  /** The signal to hand to runInference (this object: it is its own signal). */
  get signal(): CancelSignal {
    return this;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.done) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** Marks the request given up and tells each listener once; later calls do nothing. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    for (const listener of this.listeners.splice(0)) listener();
  }
}
