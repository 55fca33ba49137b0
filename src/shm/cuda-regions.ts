/**
 * Triton's CUDA shared memory extension, as far as this server goes: the endpoints exist, the
 * status lists nothing, unregistering succeeds, and registering fails with a message that says
 * why. Opening a client's CUDA IPC handle needs the CUDA runtime, which only onnxruntime's CUDA
 * execution provider would bring, and Nereid does not open IPC handles even where it is present.
 */
import { serverError } from '../errors.ts';

/** A registered CUDA region, as the status endpoints show it (never one here). */
export interface CudaRegionStatus {
  readonly name: string;
  readonly deviceId: number;
  readonly byteSize: number;
}

interface CudaRegionsOptions {
  /** --allow-client-shm: without it, register and unregister are refused, as for system regions. */
  readonly allowed: boolean;
  /** Tells whether onnxruntime's CUDA execution provider is installed (asked only on register). */
  readonly providerPresent: () => Promise<boolean>;
}

/** The CUDA regions of one server (always none); checks the flag as ClientRegions does. */
export class CudaRegions {
  constructor(private readonly options: CudaRegionsOptions) {}

  /** No region is ever registered: every region's status is an empty list, a named one is 404. */
  status(name?: string): CudaRegionStatus[] {
    if (name !== undefined) throw serverError('SHM_STATUS_UNKNOWN', 'cuda', name);
    return [];
  }

  /** Always refuses; the message says whether the CUDA execution provider is missing. */
  async register(name: string): Promise<never> {
    if (!this.options.allowed) throw serverError('SHM_DISABLED');
    if (!(await this.options.providerPresent())) {
      throw serverError('CUDA_SHM_UNAVAILABLE', name, "CUDA shared memory needs onnxruntime's CUDA execution provider, which this server does not have");
    }
    throw serverError('CUDA_SHM_UNAVAILABLE', name, 'this server does not open CUDA IPC handles yet; use system shared memory');
  }

  /** Nothing is registered, so there is nothing to undo: succeeds (when client shm is allowed). */
  unregister(): void {
    if (!this.options.allowed) throw serverError('SHM_DISABLED');
  }
}
