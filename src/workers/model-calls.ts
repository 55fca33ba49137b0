/**
 * Calls between models (business logic scripting), and a decoupled model's responses, the
 * worker's side: a JavaScript model's
 * context.infer posts its request on the instance's calls channel (a BroadcastChannel the
 * primary listens on, named in the worker's setup) and waits for the answer with its id. The
 * tensors travel in the messages (structured clone copies them once each way): a first version,
 * simpler than a ring of its own, and a call is a whole inference on the primary anyway.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { BackendHost, HostInferRequest, HostInferResult, StreamedResponse } from './backends/backend.ts';
import type { ModelCallMessage } from './protocol.ts';

/** The worker's host for its backend: calls to other models over channel `name`. */
export function callsHost(name: string): BackendHost {
  const channel = new BroadcastChannel(name);
  // Only a call in flight should keep the thread's event loop busy, never the channel itself.
  channel.unref();
  const pending = new Map<number, { resolve(r: HostInferResult): void; reject(e: Error): void }>();
  let next = 1;
  channel.onmessage = (event) => {
    const message = (event as { data: ModelCallMessage }).data;
    const waiting = pending.get(message.id);
    if (!waiting || 'request' in message || 'response' in message) return;
    pending.delete(message.id);
    if ('error' in message) waiting.reject(new Error(message.error));
    else waiting.resolve(message.result);
  };
  return {
    respond(response: StreamedResponse): void {
      channel.postMessage({ id: 0, response } satisfies ModelCallMessage);
    },
    infer(request: HostInferRequest): Promise<HostInferResult> {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        channel.postMessage({ id, request } satisfies ModelCallMessage);
      });
    },
  };
}
