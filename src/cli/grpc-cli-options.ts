/**
 * The gRPC front-end's flags, with Triton's names and defaults: address, TLS, response
 * compression, message size and keepalive. Parsed once into a frozen object; a bad flag is a
 * TypeError/RangeError whose message names it. (--grpc-port lives with the other ports.)
 */
import { bool, integer, oneOf, text, type FlagValues } from './flag-values.ts';

type GrpcCompressionLevel = 'none' | 'low' | 'medium' | 'high';

export interface GrpcOptions {
  /** Serve gRPC at all (--allow-grpc). */
  readonly allow: boolean;
  readonly address: string;
  /** TLS on (--grpc-use-ssl, or implied by --grpc-use-ssl-mutual). */
  readonly useSsl: boolean;
  /** Require and check a client certificate against the root certificate. */
  readonly useSslMutual: boolean;
  /** PEM file paths; checked for presence here, read at start-up. */
  readonly serverCertPath: string | null;
  readonly serverKeyPath: string | null;
  readonly rootCertPath: string | null;
  readonly responseCompressionLevel: GrpcCompressionLevel;
  /**
   * Largest request message, in bytes, as sent and once decompressed; larger ones get
   * RESOURCE_EXHAUSTED.
   */
  readonly maxMessageSizeBytes: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly keepalivePermitWithoutCalls: boolean;
  readonly http2MaxPingsWithoutData: number;
  readonly http2MinRecvPingIntervalWithoutDataMs: number;
  readonly http2MaxPingStrikes: number;
  /** Null: connections may live forever (Triton leaves these unset by default). */
  readonly maxConnectionAgeMs: number | null;
  readonly maxConnectionAgeGraceMs: number | null;
}

/**
 * Triton's defaults, but for the message size: Triton's is INT32_MAX, which lets one 1 MB gzip
 * message inflate to 2 GiB in this process (issue 13); Nereid takes what HTTP takes by default
 * (--http-max-input-size), and the flag raises it.
 */
export const DEFAULT_GRPC_OPTIONS: GrpcOptions = Object.freeze({
  allow: true,
  address: '0.0.0.0',
  useSsl: false,
  useSslMutual: false,
  serverCertPath: null,
  serverKeyPath: null,
  rootCertPath: null,
  responseCompressionLevel: 'none',
  maxMessageSizeBytes: 64 * 1024 * 1024, // 64 MiB, as --http-max-input-size
  keepaliveTimeMs: 7_200_000, // 2 hours
  keepaliveTimeoutMs: 20_000, // 20 seconds
  keepalivePermitWithoutCalls: false,
  http2MaxPingsWithoutData: 2,
  http2MinRecvPingIntervalWithoutDataMs: 300_000, // 5 minutes
  http2MaxPingStrikes: 2,
  maxConnectionAgeMs: null,
  maxConnectionAgeGraceMs: null,
});

/** Flags that Triton accepts bare as well as with a value. */
export const GRPC_BOOLEAN_FLAGS = ['allow-grpc', 'grpc-use-ssl', 'grpc-use-ssl-mutual', 'grpc-keepalive-permit-without-calls'] as const;

/** The flags grpc-js has no knob for (it never polices client pings), and their options. */
const kUnenforced = {
  'grpc-keepalive-permit-without-calls': 'keepalivePermitWithoutCalls',
  'grpc-http2-max-pings-without-data': 'http2MaxPingsWithoutData',
  'grpc-http2-min-recv-ping-interval-without-data': 'http2MinRecvPingIntervalWithoutDataMs',
  'grpc-http2-max-ping-strikes': 'http2MaxPingStrikes',
} as const satisfies Record<string, keyof GrpcOptions>;

/** The flags set to other than their default that grpc-js cannot apply: accepted, to be reported. */
export function unenforcedGrpcFlags(options: GrpcOptions): string[] {
  return Object.entries(kUnenforced).filter(([, key]) => options[key] !== DEFAULT_GRPC_OPTIONS[key]).map(([flag]) => `--${flag}`);
}

export const GRPC_FLAG_SPEC = {
  'allow-grpc': { type: 'string' },
  'grpc-address': { type: 'string' },
  'grpc-use-ssl': { type: 'string' },
  'grpc-use-ssl-mutual': { type: 'string' },
  'grpc-server-cert': { type: 'string' },
  'grpc-server-key': { type: 'string' },
  'grpc-root-cert': { type: 'string' },
  'grpc-infer-response-compression-level': { type: 'string' },
  'grpc-max-message-size': { type: 'string' },
  'grpc-keepalive-time': { type: 'string' },
  'grpc-keepalive-timeout': { type: 'string' },
  'grpc-keepalive-permit-without-calls': { type: 'string' },
  'grpc-http2-max-pings-without-data': { type: 'string' },
  'grpc-http2-min-recv-ping-interval-without-data': { type: 'string' },
  'grpc-http2-max-ping-strikes': { type: 'string' },
  'grpc-max-connection-age': { type: 'string' },
  'grpc-max-connection-age-grace': { type: 'string' },
} as const;

export const GRPC_USAGE = `
  --allow-grpc=BOOL             serve gRPC (default true)
  --grpc-address=ADDR           address the gRPC server listens on (default 0.0.0.0)
  --grpc-use-ssl=BOOL           TLS; needs --grpc-server-cert and --grpc-server-key (default false)
  --grpc-use-ssl-mutual=BOOL    TLS with client certificates checked against --grpc-root-cert
  --grpc-server-cert=FILE       PEM server certificate (chain)
  --grpc-server-key=FILE        PEM server private key
  --grpc-root-cert=FILE         PEM root certificate for client certificates
  --grpc-infer-response-compression-level=none|low|medium|high  (responses stay uncompressed)
  --grpc-max-message-size=BYTES largest gRPC request message, as sent and once decompressed
                                (default 67108864; at most 2147483647)
  --grpc-keepalive-time=MS      server keepalive ping period (default 7200000)
  --grpc-keepalive-timeout=MS   time to wait for a ping's answer (default 20000)
  --grpc-max-connection-age=MS  close connections older than this (default: never)
  --grpc-max-connection-age-grace=MS  time given to calls on a connection closed for age
  --grpc-keepalive-permit-without-calls, --grpc-http2-max-pings-without-data,
  --grpc-http2-min-recv-ping-interval-without-data, --grpc-http2-max-ping-strikes
                                accepted for Triton compatibility; grpc-js does not apply them
`;

/** Reads the gRPC flags from parseArgs values. Throws a TypeError/RangeError naming the flag. */
export function parseGrpcOptions(values: FlagValues): GrpcOptions {
  const d = DEFAULT_GRPC_OPTIONS;
  const useSslMutual = bool(values, 'grpc-use-ssl-mutual', d.useSslMutual);
  // As in Triton, mutual TLS turns TLS on whatever --grpc-use-ssl says.
  const useSsl = useSslMutual || bool(values, 'grpc-use-ssl', d.useSsl);
  const options: GrpcOptions = {
    allow: bool(values, 'allow-grpc', d.allow),
    address: text(values, 'grpc-address', d.address)!,
    useSsl,
    useSslMutual,
    serverCertPath: text(values, 'grpc-server-cert', null),
    serverKeyPath: text(values, 'grpc-server-key', null),
    rootCertPath: text(values, 'grpc-root-cert', null),
    responseCompressionLevel: oneOf(values, 'grpc-infer-response-compression-level', d.responseCompressionLevel, ['none', 'low', 'medium', 'high']),
    maxMessageSizeBytes: limited(values, 'grpc-max-message-size', d.maxMessageSizeBytes, 1),
    keepaliveTimeMs: limited(values, 'grpc-keepalive-time', d.keepaliveTimeMs, 1),
    keepaliveTimeoutMs: limited(values, 'grpc-keepalive-timeout', d.keepaliveTimeoutMs, 1),
    keepalivePermitWithoutCalls: bool(values, 'grpc-keepalive-permit-without-calls', d.keepalivePermitWithoutCalls),
    http2MaxPingsWithoutData: limited(values, 'grpc-http2-max-pings-without-data', d.http2MaxPingsWithoutData, 0),
    http2MinRecvPingIntervalWithoutDataMs: limited(values, 'grpc-http2-min-recv-ping-interval-without-data', d.http2MinRecvPingIntervalWithoutDataMs, 0),
    http2MaxPingStrikes: limited(values, 'grpc-http2-max-ping-strikes', d.http2MaxPingStrikes, 0),
    maxConnectionAgeMs: values['grpc-max-connection-age'] === undefined ? null : limited(values, 'grpc-max-connection-age', 0, 1),
    maxConnectionAgeGraceMs: values['grpc-max-connection-age-grace'] === undefined ? null : limited(values, 'grpc-max-connection-age-grace', 0, 0),
  };
  if (options.useSsl && (options.serverCertPath === null || options.serverKeyPath === null)) {
    const flag = useSslMutual ? '--grpc-use-ssl-mutual' : '--grpc-use-ssl';
    throw new TypeError(`${flag} needs --grpc-server-cert and --grpc-server-key`);
  }
  if (options.useSslMutual && options.rootCertPath === null) {
    throw new TypeError('--grpc-use-ssl-mutual needs --grpc-root-cert to check client certificates against');
  }
  return Object.freeze(options);
}

/** An integer flag that grpc-js stores in a signed 32-bit field. */
function limited(values: FlagValues, flag: string, fallback: number, min: number): number {
  const n = integer(values, flag, fallback, min);
  if (n > 2 ** 31 - 1) throw new RangeError(`--${flag} must be at most ${2 ** 31 - 1} (got ${n})`);
  return n;
}
