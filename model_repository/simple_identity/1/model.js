// simple_identity: OUTPUT0 is INPUT0, byte for byte. A model written in JavaScript
// (docs/javascript-models.md): the default export is a class, one object per instance, whose
// execute() answers a batch of requests with one response each.
export default class SimpleIdentity {
  execute(requests) {
    return requests.map(({ inputs }) => ({ outputs: { OUTPUT0: inputs.INPUT0 } }));
  }
}
