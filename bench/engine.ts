/** The measurement engine lives in src/tune/ (the tuner ships with the package and measures with the same engine). */
export * from '../src/tune/engine.ts';
