// A stand-in training worker for supervisor tests: speaks the protocol of
// src/core/runs/protocol.ts, one "step" every 20 ms, no tensors.
let stop = null;
let step = 0;
let total = 0;

function tick() {
  if (stop) return process.send({ type: 'stopped', reason: stop, step }, () => process.exit(0));
  if (step >= total) return process.send({ type: 'done', step }, () => process.exit(0));
  step++;
  process.send({ type: 'progress', step, losses: { loss: 1 / step }, stepsPerSec: 50, etaSec: (total - step) / 50 });
  setTimeout(tick, 20);
}

process.on('message', (m) => {
  if (m.type === 'stop') stop = m.reason;
  else if (m.type === 'start') {
    total = m.config.steps;
    process.send({ type: 'started', backend: 'fake', notes: [], step });
    tick();
  }
});
process.on('disconnect', () => process.exit(75));
