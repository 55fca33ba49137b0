/**
 * The typed, validated configuration of one model, as downstream code sees it. Built once at
 * load by normalize-config.ts and frozen; nothing downstream checks it again.
 */
import type { DatatypeInfo } from '../dtypes.ts';
import type { DynamicBatching } from './dynamic-batching-config.ts';
import type { Ensemble } from './ensemble-config.ts';
import type { SequenceBatching } from './sequence-batching-config.ts';

/** config.pbtxt as parsed: proto field names (snake_case), enums as names, numbers as numbers. */
export type RawConfig = Record<string, any>;

export interface TensorConfig {
  readonly name: string;
  readonly datatype: DatatypeInfo;
  /** Dims without the batch dimension; -1 is variable. */
  readonly dims: readonly number[];
  /** The shape the model sees, when config.pbtxt reshapes (without the batch dimension). */
  readonly reshape: readonly number[] | null;
  readonly optional: boolean;
  /** An output's class labels, one per index, from its label_filename; null without one. */
  readonly labels: readonly string[] | null;
}

export type VersionPolicy =
  | { readonly kind: 'latest'; readonly numVersions: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'specific'; readonly versions: readonly number[] };

export interface InstanceGroup {
  readonly name: string;
  readonly kind: 'KIND_CPU' | 'KIND_GPU';
  readonly count: number;
  /** GPU ids for KIND_GPU; empty for KIND_CPU. */
  readonly gpus: readonly number[];
}

export interface ModelConfig {
  readonly name: string;
  /** 'onnxruntime_onnx', or '' for a model that names only its backend. */
  readonly platform: string;
  /** The backend that runs the model: 'onnxruntime', or another registered by name (workers/). */
  readonly backend: string;
  /** 0: the model takes whole shapes; > 0: inputs and outputs lead with a batch dimension. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorConfig[];
  readonly outputs: readonly TensorConfig[];
  readonly versionPolicy: VersionPolicy;
  readonly instanceGroups: readonly InstanceGroup[];
  /** null: no dynamic batching, each request runs alone. */
  readonly dynamicBatching: DynamicBatching | null;
  /** null: not a sequence model. Its control tensors are model inputs the scheduler writes. */
  readonly sequenceBatching: SequenceBatching | null;
  /** response_cache.enable: answer repeated requests from the server's response cache (--cache-config). */
  readonly responseCache: boolean;
  readonly defaultModelFilename: string;
  /** `parameters` as string values. */
  readonly parameters: Readonly<Record<string, string>>;
  /** parameters.intra_op_thread_count; null lets the server share the cores among all instances. */
  readonly intraOpThreads: number | null;
  readonly interOpThreads: number;
  /** Fields the config sets that Nereid parses but does not act on (inert-fields.ts), for the load's warning. */
  readonly ignoredFields: readonly string[];
  /** The completed config in proto shape, for the config endpoint. */
  readonly raw: RawConfig;
  /** model_transaction_policy.decoupled (JavaScript models): a request gets zero or more responses, streamed. */
  readonly decoupled?: boolean;
  /** platform "ensemble": its steps; absent or null otherwise. */
  readonly ensemble?: Ensemble | null;
}
