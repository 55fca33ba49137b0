/** The tensor plane between the primary and the workers, and the client shared-memory regions. */
export { TensorRing } from './tensor-ring.ts';
export { alignUp, kAlign, SlotState } from './ring-layout.ts';
export type { BatchTensor, MovedTensor, SlotTensor, StringTensor } from './slot-descriptor.ts';
export { isSlotTensor, isStringTensor } from './slot-descriptor.ts';
export { ClientRegions, kMaxNameLength, kMaxRegions, shmObjectName, type ClientRegionsOptions, type RegionStatus } from './client-regions.ts';
export { openSharedObjects, RegionLease } from './shared-object.ts';
export { regionRefOf, regionResponseParameters, type RegionRef } from './region-params.ts';
export { CudaRegions, type CudaRegionsOptions, type CudaRegionStatus } from './cuda-regions.ts';
