/** The measurement arithmetic lives in src/tune/ (the tuner ships with the package and measures with it). */
export * from '../src/tune/measure.ts';
