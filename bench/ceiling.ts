/**
 * The in-process ceiling: the same model run by onnxruntime-node in a plain loop at a fixed
 * batch size and thread count, with nothing else in the way. Items (batch elements) per second.
 */
import * as ort from 'onnxruntime-node';

export async function measureCeiling(modelFile: string, input: { name: string; dims: number[] }, batch: number, threads: number, durationMs: number): Promise<number> {
  const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const data = new Float32Array(batch * input.dims.reduce((a, b) => a * b, 1)).map((_, i) => (i % 17) / 17);
  const feeds = { [input.name]: new ort.Tensor('float32', data, [batch, ...input.dims]) };
  for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up
  const start = performance.now();
  let runs = 0;
  while (performance.now() - start < durationMs) {
    await session.run(feeds);
    runs++;
  }
  const seconds = (performance.now() - start) / 1000;
  await session.release();
  return (runs * batch) / seconds;
}
