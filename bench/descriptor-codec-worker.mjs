// The worker script of bench/descriptor-codec.ts, for its plain worker and for piscina's. A worker
// started under `node --import tsx` can import a .ts entry before tsx's hooks are registered in
// its thread (a race), so this plain module registers them first, then imports the bench.
const { register } = await import('tsx/esm/api');
register();
const bench = await import('./descriptor-codec.ts');
export default bench.default;
