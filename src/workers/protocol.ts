/**
 * The messages between the primary and a worker: small descriptors, with tensor bytes in
 * ArrayBuffers that are moved (transferred), never copied by structured clone.
 */

/** What a worker is told when it starts (piscina workerData). One worker holds one instance. */
export interface WorkerSetup {
  readonly model: string;
  readonly version: number;
  /** Absolute path of the .onnx file. */
  readonly modelPath: string;
  readonly device: { readonly kind: 'cpu' } | { readonly kind: 'gpu'; readonly id: number };
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
}

/** A tensor crossing the channel. `data` is moved for numeric types; BYTES travel as strings. */
export interface WireTensor {
  readonly name: string;
  /** onnxruntime-node's type name ('float32', 'int64', 'string', ...). */
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayBuffer | readonly string[];
}

export type WorkerTask =
  | { readonly op: 'load' }
  | { readonly op: 'run'; readonly inputs: readonly WireTensor[]; readonly outputs: readonly string[] };

export interface IoMetadata {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

export type WorkerReply =
  | { readonly ok: true; readonly op: 'load'; readonly inputs: readonly IoMetadata[]; readonly outputs: readonly IoMetadata[] }
  | { readonly ok: true; readonly op: 'run'; readonly outputs: readonly WireTensor[]; readonly computeNs: number }
  | { readonly ok: false; readonly message: string };
