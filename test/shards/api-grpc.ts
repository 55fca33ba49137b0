/** The 'api-grpc' test shard (test/helpers/shards.ts says which files, and why shards). */
import { runShard } from '../helpers/shards.ts';

await runShard('api-grpc');
