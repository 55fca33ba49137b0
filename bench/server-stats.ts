/** The server-side split lives in src/tune/ (the tuner ships with the package and measures with it). */
export * from '../src/tune/server-stats.ts';
