/** The public surface of src/inference/. */
export * from './classification.ts';
export * from './infer-request.ts';
export * from './pipeline.ts';
export * from './request-regions.ts';
export * from './tensor-data.ts';
export * from './cancel-signal.ts';
export * from './request-budget.ts';
