// repeat_int32: a decoupled model (docs/javascript-models.md). For each element i of IN it
// waits DELAY[i] milliseconds and sends a response with OUT = IN[i] and IDX = i; then it waits
// WAIT milliseconds and sends the final flag alone. IN and DELAY must have the same length.
import { setTimeout as sleep } from 'node:timers/promises';

export default class RepeatInt32 {
  async execute(requests) {
    await Promise.all(requests.map(async (request) => {
      const values = request.inputs.IN.data;
      const delays = request.inputs.DELAY.data;
      if (delays.length !== values.length) {
        request.send({ error: `expected IN and DELAY to have the same length, got ${values.length} and ${delays.length}` }, { final: true });
        return;
      }
      for (let i = 0; i < values.length; i++) {
        await sleep(delays[i]);
        request.send({
          outputs: {
            OUT: { datatype: 'INT32', shape: [1], data: new Int32Array([values[i]]) },
            IDX: { datatype: 'UINT32', shape: [1], data: new Uint32Array([i]) },
          },
        });
      }
      await sleep(request.inputs.WAIT.data[0]);
      request.send(null, { final: true });
    }));
  }
}
