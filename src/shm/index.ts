/** The tensor plane between the primary and the workers. */
export { TensorRing } from './tensor-ring.ts';
export { alignUp, kAlign, SlotState } from './ring-layout.ts';
export type { BatchTensor, MovedTensor, SlotTensor, StringTensor } from './slot-descriptor.ts';
export { isSlotTensor, isStringTensor } from './slot-descriptor.ts';
