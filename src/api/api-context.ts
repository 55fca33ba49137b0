/**
 * What the front-ends need from the primary: the model registry and the server's state.
 */
import type { ModelRegistry } from '../primary/model-registry.ts';

export interface ApiContext {
  readonly registry: ModelRegistry;
  readonly version: string;
  readonly maxInputSizeBytes: number;
  readonly maxJsonDepth: number;
  isLive(): boolean;
  isReady(): boolean;
}
