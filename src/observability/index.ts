/** The public surface of src/observability/. */
export * from './log-settings.ts';
export * from './logger.ts';
export * from './model-statistics.ts';
export * from './request-trace.ts';
export * from './system-monitor.ts';
export * from './trace-manager.ts';
