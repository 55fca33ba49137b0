/** The public surface of src/model-config/. */
export * from './autocomplete-config.ts';
export * from './config-json.ts';
export * from './dynamic-batching-config.ts';
export * from './inert-fields.ts';
export * from './model-config-schema.ts';
export * from './model-config.ts';
export * from './normalize-config.ts';
export { readModelIo } from './onnx-model.ts';
export * from './parse-pbtxt.ts';
export * from './instance-kind.ts';
export * from './sequence-batching-config.ts';
export * from './ensemble-config.ts';
