/**
 * What the front-ends need from the primary: the model registry, the server's state, and the
 * logging and trace settings that the logging and trace extensions read and change.
 */
import type { LogSettings } from '../primary/log-settings.ts';
import type { ModelRegistry } from '../primary/model-registry.ts';
import type { TraceManager } from '../primary/trace-manager.ts';

export interface ApiContext {
  readonly registry: ModelRegistry;
  readonly version: string;
  readonly maxInputSizeBytes: number;
  readonly maxJsonDepth: number;
  isLive(): boolean;
  isReady(): boolean;
  readonly logSettings: LogSettings;
  readonly tracing: TraceManager;
}
