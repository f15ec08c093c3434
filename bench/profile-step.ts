/**
 * 30 training steps of the lesson network at batch 64 (Adam), for a CPU profile:
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-step.ts
 * The main thread's profile is the first .cpuprofile; docs/speed.md has what it showed.
 */
import { Adam, randomUniform, ready, sigmoidCrossEntropyWithLogits, Tensor } from '../src/index.js';
import { lessonNetwork } from '../examples/mnist/lesson-network.js';
async function main() {
  await ready();
  const model = lessonNetwork({ batchNorm: true, seed: 1 });
  const x = randomUniform([64, 28, 28, 1], { seed: 2 });
  const y = new Tensor(new Float32Array(640), [64, 10]);
  const opt = new Adam();
  for (let s = 0; s < 30; s++) {
    const loss = sigmoidCrossEntropyWithLogits(y, model.call(x, { isTraining: true }));
    loss.backward();
    opt.step(model.parameters());
    opt.zeroGrad(model.parameters());
  }
}
void main();
