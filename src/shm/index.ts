/** The tensor plane between the primary and the workers, and the client shared-memory regions. */
export { TensorRing } from './tensor-ring.ts';
export { alignUp, kAlign, SlotState } from './ring-layout.ts';
export type { BatchTensor, DirectOutput, DirectWriteOutcome, FailedRead, FilePart, GatheredTensor, GatherPart, MovedTensor, SlotTensor, StringTensor, WrittenTensor } from './slot-descriptor.ts';
export { isFilePart, isGatheredTensor, isMovedTensor, isSlotTensor, isStringTensor, isWrittenTensor } from './slot-descriptor.ts';
export { readFully, writeFully, type FileRange } from './file-range.ts';
export { ClientRegions, shmObjectName, type RegionStatus } from './client-regions.ts';
export { openSharedObjects, RegionLease } from './shared-object.ts';
export { regionRefOf, regionResponseParameters, type RegionRef } from './region-params.ts';
export { CudaRegions, type CudaRegionStatus } from './cuda-regions.ts';
