/**
 * Where an instance group runs, decided from what the machine offers: the GPUs found (or named
 * with --gpus) and whether onnxruntime's CUDA execution provider can be loaded. A GPU without
 * the provider is of no use to onnxruntime, so KIND_AUTO takes a GPU only when both are there,
 * and KIND_GPU without the provider fails that model's load with the way to install it.
 */

/** Where the GPU set-up is documented; load errors and log lines point here. */
export const GPU_SETUP_DOC = 'docs/install.md#gpu';

/** What this machine offers for GPU instances. */
export interface DeviceOffer {
  /** GPU ids found on this machine, or named with --gpus. */
  readonly gpus: readonly number[];
  /** Whether onnxruntime-node's CUDA execution provider is installed and loadable. */
  readonly cudaProvider: boolean;
}

export type KindDecision =
  | { readonly kind: 'KIND_CPU' }
  | { readonly kind: 'KIND_GPU' }
  | { readonly kind: 'error'; readonly message: string };

/**
 * The kind an instance group gets: `kind` as written (KIND_AUTO when absent), `listed` its
 * `gpus` field. Unknown kinds are the caller's to refuse.
 */
export function decideInstanceKind(kind: 'KIND_AUTO' | 'KIND_CPU' | 'KIND_GPU', listed: readonly number[], offer: DeviceOffer): KindDecision {
  if (kind === 'KIND_CPU') return { kind: 'KIND_CPU' };
  if (kind === 'KIND_AUTO') {
    const wantsGpu = listed.length > 0 || offer.gpus.length > 0;
    return wantsGpu && offer.cudaProvider ? { kind: 'KIND_GPU' } : { kind: 'KIND_CPU' };
  }
  if (offer.gpus.length === 0) return { kind: 'error', message: 'KIND_GPU needs a GPU, and none was found on this machine' };
  if (!offer.cudaProvider) {
    return {
      kind: 'error',
      message: `KIND_GPU needs onnxruntime's CUDA execution provider, which is not installed here (install it as ${GPU_SETUP_DOC} says, or use KIND_CPU or KIND_AUTO)`,
    };
  }
  return { kind: 'KIND_GPU' };
}

/**
 * The one line that says why KIND_AUTO groups run on the CPU on this machine, or null when
 * nothing needs saying (no GPU, or GPUs with the provider).
 */
export function autoKindNotice(offer: DeviceOffer): string | null {
  if (offer.gpus.length === 0 || offer.cudaProvider) return null;
  return `found ${offer.gpus.length} GPU${offer.gpus.length > 1 ? 's' : ''} but not onnxruntime's CUDA execution provider: instance groups of KIND_AUTO (or no kind) run on the CPU (${GPU_SETUP_DOC} shows how to install the provider)`;
}
