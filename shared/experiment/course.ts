import type { ExperimentSpec } from '../protocol';

/**
 * The ECE 544NA (Fall 2016) assignment 2 grid, as Lockstep's built-in "course" experiment:
 * the fully-connected net (two hidden layers, hidden size 10 or 50, sigmoid, tanh or ReLU; the
 * fnn-* presets) and the TDNN with its two outputs (the summed-over-time TDNN preset, and the
 * same layers flattened), each trained by both engines from the same initial weights. Timing
 * covers the question "running time of one backprop iteration vs batch size for 10 and 50
 * hidden nodes" (the tanh FNNs, both engines). tfjs runs on wasm: its cpu backend is about 30×
 * slower on the TDNN.
 */
export const COURSE_EXPERIMENT: ExperimentSpec = {
  name: 'course',
  description:
    'ECE 544NA Fall 2016, assignment 2: six fully-connected networks (2 hidden layers of 10 or 50 units; sigmoid, tanh or ReLU) and the TDNN ' +
    '(output summed over time, or flattened), each trained by the scratch engine and by TensorFlow.js from the same initial weights.',
  base: { backend: 'wasm' },
  grid: { engine: ['scratch', 'tfjs'] },
  parts: [
    {
      name: 'fnn',
      description:
        'The fully-connected network: 70×16 input flattened, two hidden layers, softmax over the 9 consonants.',
      base: { model: 'fnn-10-sigmoid' },
      grid: {
        hidden: { paths: ['layers.1.units', 'layers.2.units'], values: [10, 50] },
        activation: { paths: ['layers.1.activation', 'layers.2.activation'], values: ['sigmoid', 'tanh', 'relu'] },
      },
    },
    {
      name: 'tdnn',
      description:
        'The time-delay network: two sigmoid Conv1D layers, then the output summed over time (as Waibel et al.) or flattened.',
      base: { model: 'tdnn' },
      grid: { output: { paths: ['layers.2.type'], values: ['TimeSum', 'Flatten'], labels: ['sum', 'flatten'] } },
    },
  ],
  timing: { batchSizes: [1, 10, 50, 200], steps: 30, parts: ['fnn'], where: { activation: ['tanh'] } },
};

export const BUILTIN_EXPERIMENTS: ReadonlyMap<string, ExperimentSpec> = new Map([
  [COURSE_EXPERIMENT.name, COURSE_EXPERIMENT],
]);
