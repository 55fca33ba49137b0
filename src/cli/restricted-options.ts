/**
 * Triton's access control flags, with its syntax, groups and messages:
 *
 *   --http-restricted-api=<api>[,<api>...]:<key>=<value>
 *   --grpc-restricted-protocol=<protocol>[,<protocol>...]:<key>=<value>
 *
 * Each is repeatable. A request to a restricted group must carry the header `<key>` (HTTP) or
 * the metadata `triton-grpc-protocol-<key>` (gRPC) with exactly `<value>`. A group may appear in
 * one flag only. Which route or RPC belongs to which group is api/shared/api-groups.ts.
 */

/** Triton's API groups (server/src/restricted_features.h), in its order. */
export const API_GROUPS = ['health', 'metadata', 'inference', 'shared-memory', 'model-config', 'model-repository', 'statistics', 'trace', 'logging'] as const;

export type ApiGroup = (typeof API_GROUPS)[number];

/** The header (HTTP, lowercased) or metadata key (gRPC) and the value a restricted group requires. */
export interface Restriction {
  /** The header as configured (prefix and key), for messages. */
  readonly name: string;
  /** The same, lowercased: how Node hands header names over. */
  readonly header: string;
  readonly value: string;
}

/** The restricted groups of one front-end; a group not in the map is open. */
export type Restrictions = ReadonlyMap<ApiGroup, Restriction>;

/** Triton prefixes the key of --grpc-restricted-protocol so that it is a valid, lowercase HTTP/2 header. */
export const GRPC_RESTRICTED_HEADER_PREFIX = 'triton-grpc-protocol-';

/**
 * Parses every occurrence of one of the two flags. `flag` is its name without dashes, `what`
 * Triton's word for a group in messages ('api' or 'protocol'). Throws a TypeError naming the
 * flag, with Triton's wording.
 */
export function parseRestrictions(values: readonly string[] | undefined, flag: string, what: 'api' | 'protocol', headerPrefix: string): Restrictions {
  const out = new Map<ApiGroup, Restriction>();
  for (const arg of values ?? []) {
    const colon = arg.indexOf(':');
    const equals = colon < 0 ? -1 : arg.indexOf('=', colon + 1);
    const groups = colon < 0 ? '' : arg.slice(0, colon);
    const key = equals < 0 ? '' : arg.slice(colon + 1, equals);
    const value = equals < 0 ? '' : arg.slice(equals + 1);
    if (groups === '' || key === '' || value === '') {
      throw new TypeError(`--${flag} option format is '<${what} list>:<key>=<value>', e.g. --${flag}=model-repository,logging:admin-key=secret. Got '${arg}'`);
    }
    for (const group of groups.split(',')) {
      if (!(API_GROUPS as readonly string[]).includes(group)) {
        throw new TypeError(`--${flag}: unknown restricted ${what} '${group}' (one of ${API_GROUPS.join(', ')})`);
      }
      if (out.has(group as ApiGroup)) {
        throw new TypeError(`--${flag}: restricted ${what} '${group}' can not be specified in multiple config groups`);
      }
      // HTTP and HTTP/2 header names are case-insensitive, and arrive lowercased in Node.
      const name = `${headerPrefix}${key}`;
      out.set(group as ApiGroup, { name, header: name.toLowerCase(), value });
    }
  }
  return out;
}
