/** The tuner (`nereid tune`): its search, its choice, its measurement engine and its run. */
export * from './space.ts';
export * from './pareto.ts';
export * from './config-writer.ts';
export * from './state.ts';
export * from './measure.ts';
export * from './server-stats.ts';
export * from './engine.ts';
export * from './http-load.ts';
export * from './runner.ts';
export * from './report.ts';
export * from './cli.ts';
export * from './server-process.ts';
