/**
 * The client shared-memory regions one inference request reads and writes, for any front-end.
 *
 * A front-end makes one per request, after the request's header passed checkRequest, and turns
 * each tensor that names a region into tensor data (`input`) or a sink (`output`). Each takes a
 * lease at once, so an unknown region or a range past a region's end is refused before anything
 * is queued, and a region unregistered meanwhile stays readable until the request is answered.
 * Numeric inputs are the region's descriptor and position (tensor data of kind 'region'), and
 * numeric outputs offer them (`direct`): then the worker that runs the batch reads the input
 * straight into the runtime's buffer and writes the output straight out of the runtime's, and no
 * byte passes through the primary or the slot.
 * Otherwise numeric inputs are read when the batch is formed, straight into the batch's slot, and
 * outputs are written straight out of the slot. Reads and writes during the batch never throw
 * into the scheduler: a failure is kept and thrown by `finish()` for this request alone. The
 * leases, and so the descriptors a worker uses, are released only by `release()`, once the
 * request has settled, which is after its batch's worker has answered or died.
 *
 * Usage: `try { ...; await enqueue(...); regions.finish(); ... } finally { regions.release(); }`
 */
import { decodeBytesElements, encodeBytesElements, type BytesForm } from '../bytes-elements.ts';
import type { DatatypeInfo } from '../dtypes.ts';
import { quote, serverError, ServerError } from '../errors.ts';
import type { ClientRegions, RegionLease, RegionRef } from '../shm/index.ts';
import type { TensorData, TensorSink } from './infer-request.ts';
import { bytesError } from './tensor-data.ts';

/** One request's leases on client regions, its region-backed tensor data and sinks. */
export class RequestRegions {
  private readonly leases: RegionLease[] = [];
  private readonly written = new Map<string, number>();
  private failure: ServerError | null = null;
  private readonly rid: string;

  constructor(private readonly registry: ClientRegions, requestId: string | undefined, private readonly model: string) {
    this.rid = requestId || '<id_unknown>';
  }

  /**
   * An input's contents from a region. The range must be exactly the tensor's byte size. A
   * numeric input becomes the region's file range, which the batcher reads into the batch's slot
   * when the batch is formed (the one copy) or hands to the worker to read itself; a failed read
   * fails this request alone, through `finish()`. A BYTES input is read and decoded now, as
   * onnxruntime takes strings.
   */
  input(name: string, dt: DatatypeInfo, count: number, ref: RegionRef, form: BytesForm = 'text'): TensorData {
    const lease = this.take(ref);
    if (dt.wire === 'BYTES') {
      // The range's size counted in the request's budget (request-budget.ts) before this.
      const bytes = Buffer.allocUnsafe(ref.byteSize);
      lease.read(bytes);
      try {
        return { kind: 'strings', strings: decodeBytesElements(bytes, count, `input '${quote(name)}'`, form) };
      } catch (err) {
        throw bytesError(err, name, this.rid);
      }
    }
    const expected = count * dt.byteSize;
    if (ref.byteSize !== expected) throw serverError('SHM_INPUT_SIZE', this.rid, name, this.model, expected, ref.byteSize);
    return {
      kind: 'region',
      file: lease.file,
      failed: (reason) => this.fail(serverError('SHM_IO_FAILED', ref.region, 'read', reason)),
    };
  }

  /**
   * A sink that writes an output into a region: numeric bytes as they are, BYTES serialized as
   * Triton does (4-byte little-endian length, then the bytes). The output may be smaller than the
   * range; one that is larger fails the request and is not written.
   */
  output(name: string, ref: RegionRef, form: BytesForm = 'text'): TensorSink {
    const lease = this.take(ref);
    return {
      direct: {
        file: lease.file,
        settle: (outcome) => {
          if ('written' in outcome) this.written.set(name, outcome.written);
          else if ('tooLarge' in outcome) this.fail(serverError('SHM_OUTPUT_TOO_SMALL', name, ref.byteSize, outcome.tooLarge));
          else this.fail(serverError('SHM_IO_FAILED', ref.region, 'written', outcome.failed));
        },
      },
      accept: (data) => {
        // A request whose inputs could not be read has no output worth writing.
        if (this.failure) return;
        try {
          const bytes = data instanceof Uint8Array ? data : encodeBytesElements(data, form);
          if (bytes.length > ref.byteSize) throw serverError('SHM_OUTPUT_TOO_SMALL', name, ref.byteSize, bytes.length);
          lease.write(bytes);
          this.written.set(name, bytes.length);
        } catch (err) {
          this.fail(err);
        }
      },
    };
  }

  /** Whether any tensor of this request uses a region. */
  get used(): boolean {
    return this.leases.length > 0;
  }

  /** The bytes written into the region for output `name` (0 before the request ran). */
  bytesWritten(name: string): number {
    return this.written.get(name) ?? 0;
  }

  /** Throws the first read or write failure of this request; call once it has run. */
  finish(): void {
    if (this.failure) throw this.failure;
  }

  /** Ends every lease of this request; call when it is answered, whether or not it succeeded. */
  release(): void {
    for (const lease of this.leases.splice(0)) lease.release();
  }

  private take(ref: RegionRef): RegionLease {
    const lease = this.registry.lease(ref.region, ref.offset, ref.byteSize);
    this.leases.push(lease);
    return lease;
  }

  private fail(err: unknown): void {
    this.failure ??= err instanceof ServerError ? err : serverError('INTERNAL', `shared memory: ${(err as Error)?.message ?? String(err)}`);
  }
}
