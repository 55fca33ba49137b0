/**
 * What the front-ends need from the primary: the model registry, the server's state, and the
 * logging and trace settings that the logging and trace extensions read and change.
 */
import type { LogSettings } from '../../observability/index.ts';
import type { ModelControl, ModelRegistry } from '../../repository/index.ts';
import type { ClientRegions, CudaRegions } from '../../shm/index.ts';
import type { TraceManager } from '../../observability/index.ts';
import type { RequestLimits } from '../../inference/index.ts';

export interface ApiContext {
  readonly registry: ModelRegistry;
  /** The repository extension: index, load, unload (load/unload only in explicit mode). */
  readonly models: ModelControl;
  readonly version: string;
  /** The server's name in its metadata (--id; Triton's default is 'triton', ours 'nereid'). */
  readonly serverId?: string;
  readonly maxInputSizeBytes: number;
  readonly maxJsonDepth: number;
  /** The budgets every inference request must fit (--max-request-elements, --max-request-memory). */
  readonly limits: RequestLimits;
  /** Client system shared-memory regions (one registry per server, shared by the front-ends). */
  readonly clientRegions: ClientRegions;
  /** Client CUDA shared-memory regions (none can be registered here). */
  readonly cudaRegions: CudaRegions;
  isLive(): boolean;
  /** True once the server has begun to shut down (SIGTERM/SIGINT): answers close their connection. */
  isClosing(): boolean;
  isReady(): boolean;
  readonly logSettings: LogSettings;
  readonly tracing: TraceManager;
}
