/**
 * What the front-ends need from the primary: the model registry and the server's state.
 */
import type { ModelRegistry } from '../primary/model-registry.ts';
import type { ClientRegions, CudaRegions } from '../shm/index.ts';

export interface ApiContext {
  readonly registry: ModelRegistry;
  readonly version: string;
  readonly maxInputSizeBytes: number;
  readonly maxJsonDepth: number;
  /** Client system shared-memory regions (one registry per server, shared by the front-ends). */
  readonly clientRegions: ClientRegions;
  /** Client CUDA shared-memory regions (none can be registered here). */
  readonly cudaRegions: CudaRegions;
  isLive(): boolean;
  isReady(): boolean;
}
