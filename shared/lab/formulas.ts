import type { ElementwiseActivation } from '../engine/activations';
import { window1d } from '../engine/window1d';
import type { LabLayerConfig, LabProblem } from './problem';

/**
 * The derivative of each function the lab differentiates, as TeX (KaTeX renders it), with the
 * index ranges of docs/derivations.md (0-based, channels last) and the 2016 write-up's slips
 * corrected: +1/n over exactly the window for average pooling, one arg-max (not every tied
 * maximum) for max pooling, a kernel in the convolution.
 */
export interface LabFormula {
  title: string;
  /** What the function computes. */
  definition: string;
  /** Its Jacobian entry ∂y/∂x. */
  derivative: string;
  /** The sizes of the current setting, as TeX. */
  sizes: string;
  /** Plain-text remarks (how "our backward" is read, what happens at kinks). */
  notes: string[];
}

const ACT_PRIME: Record<ElementwiseActivation, string> = {
  linear: '1',
  sigmoid: 'y(1-y)',
  tanh: '1-y^2',
  relu: '[\\,z > 0\\,]',
};

function actPrime(activation: string): string {
  return ACT_PRIME[(activation === 'softmax' ? 'linear' : activation) as ElementwiseActivation];
}

const WINDOW = '\\mathcal W(i) = \\{\\, is - p + w : 0 \\le w \\le W-1 \\,\\} \\cap \\{0,\\dots,L-1\\}';
const RELU_NOTE = 'At z = 0 (the ReLU kink) the engine takes the subgradient 0.';

function sizesOf(pairs: Array<[string, number]>): string {
  return pairs.map(([k, v]) => `${k} = ${v}`).join(',\\ ');
}

export function labFormula(problem: LabProblem): LabFormula {
  const { settings } = problem;
  const K = problem.fn.x.length;
  if (settings.kind === 'Softmax') {
    return {
      title: 'Softmax',
      definition: 'y_k = \\frac{e^{z_k}}{\\sum_{l=0}^{K-1} e^{z_l}}, \\qquad k \\in \\{0,\\dots,K-1\\}',
      derivative:
        '\\frac{\\partial y_k}{\\partial z_j} = y_k\\,(\\delta_{kj} - y_j) = \\begin{cases} y_k(1-y_k) & j = k \\\\ -\\,y_k\\,y_j & j \\ne k \\end{cases}',
      sizes: sizesOf([['K', K]]),
      notes: [
        "The engine never forms this matrix: softmax only ends a network, fused with the NLL. Our row k is −y_k times the engine's backward for label k, since ∂y_k/∂z = y_k ∂(log y_k)/∂z = −y_k ∂L_k/∂z.",
        'J = diag(y) − y yᵀ is symmetric and each row sums to 0.',
      ],
    };
  }
  if (settings.kind === 'SoftmaxNLL') {
    return {
      title: 'Softmax + NLL',
      definition: 'L_k = -\\log \\operatorname{softmax}(z)_k = \\log \\sum_{l=0}^{K-1} e^{z_l} - z_k',
      derivative: '\\frac{\\partial L_k}{\\partial z_j} = \\operatorname{softmax}(z)_j - \\delta_{kj}',
      sizes: sizesOf([
        ['K', K],
        ['B', 1],
      ]),
      notes: [
        "Row k is the loss for label k (one example: the engine's batch mean divides every row by B).",
        'The fused form never divides by a probability, so it stays finite for any logits.',
      ],
    };
  }
  const layer = problem.resolved!.layers[problem.layerIndex];
  // The problem was built for a lab kind, so its layer is one the lab explains.
  return layerFormula(layer.config as LabLayerConfig, layer.inputShape, layer.outputShape);
}

function layerFormula(config: LabLayerConfig, inputShape: number[], outputShape: number[]): LabFormula {
  const [L, C] = inputShape;
  switch (config.type) {
    case 'AveragePooling1D':
    case 'MaxPooling1D': {
      const { padLeft } = window1d(L, config.poolSize, config.strides, config.padding);
      const sizes = sizesOf([
        ['L', L],
        ['C', C],
        ['W', config.poolSize],
        ['s', config.strides],
        ['p', padLeft],
        ['T', outputShape[0]],
      ]);
      if (config.type === 'AveragePooling1D') {
        return {
          title: '1-D average pooling',
          definition: `y[i,c] = \\frac{1}{n_i} \\sum_{j \\in \\mathcal W(i)} x[j,c], \\qquad ${WINDOW},\\ \\ n_i = |\\mathcal W(i)|`,
          derivative:
            "\\frac{\\partial y[i,c]}{\\partial x[j,c']} = \\delta_{cc'}\\,\\frac{[\\,j \\in \\mathcal W(i)\\,]}{n_i}",
          sizes,
          notes: ["With 'valid' padding n_i = W; with 'same', padded positions are not counted (TensorFlow's rule)."],
        };
      }
      return {
        title: '1-D max pooling',
        definition: `y[i,c] = \\max_{j \\in \\mathcal W(i)} x[j,c], \\qquad j^*(i,c) = \\min\\{\\, j \\in \\mathcal W(i) : x[j,c] = y[i,c] \\,\\}, \\qquad ${WINDOW}`,
        derivative: "\\frac{\\partial y[i,c]}{\\partial x[j,c']} = \\delta_{cc'}\\,[\\,j = j^*(i,c)\\,]",
        sizes,
        notes: [
          "Where two inputs tie for a window's maximum, y has no derivative: raising either raises y at rate 1, lowering it leaves y alone. The engine and tfjs give the whole gradient to the first; a central difference measures ½. Tied entries are marked, not compared.",
        ],
      };
    }
    case 'Conv1D': {
      const span = (config.kernelSize - 1) * config.dilationRate + 1;
      const { padLeft } = window1d(L, span, config.strides, config.padding);
      return {
        title: '1-D convolution (cross-correlation, as tfjs/Keras)',
        definition:
          'z[t,f] = b[f] + \\sum_{k=0}^{K-1} \\sum_{c=0}^{C-1} x[ts + kd - p,\\ c]\\;W[k,c,f], \\qquad y = \\operatorname{act}(z)',
        derivative: `\\frac{\\partial y[t,f]}{\\partial x[m,c]} = \\operatorname{act}'(z[t,f]) \\sum_{k=0}^{K-1} W[k,c,f]\\,[\\,ts + kd - p = m\\,], \\qquad \\operatorname{act}' = ${actPrime(config.activation)}`,
        sizes: sizesOf([
          ['L', L],
          ['C', C],
          ['K', config.kernelSize],
          ['F', config.filters],
          ['s', config.strides],
          ['d', config.dilationRate],
          ['p', padLeft],
          ['T', outputShape[0]],
        ]),
        notes: [
          'Positions outside 0…L−1 are zero padding: constants, they receive no gradient.',
          ...(config.activation === 'relu' ? [RELU_NOTE] : []),
        ],
      };
    }
    case 'Dense':
      return {
        title: 'Dense',
        definition: 'z_u = b_u + \\sum_{i} x_i\\,W[i,u], \\qquad y = \\operatorname{act}(z)',
        derivative: `\\frac{\\partial y_u}{\\partial x_i} = \\operatorname{act}'(z_u)\\,W[i,u], \\qquad \\operatorname{act}' = ${actPrime(config.activation)}`,
        sizes: sizesOf([
          ['I', inputShape[0]],
          ['U', config.units],
        ]),
        notes: [
          'The input is the flattened [time, channels] input: x_{tC+c} = x[t,c].',
          ...(config.activation === 'relu' ? [RELU_NOTE] : []),
        ],
      };
    case 'Activation':
      return {
        title: `Activation (${config.activation})`,
        definition: 'y_i = f(x_i)',
        derivative: `\\frac{\\partial y_i}{\\partial x_j} = \\delta_{ij}\\,f'(x_i), \\qquad f' = ${actPrime(config.activation)}`,
        sizes: sizesOf([
          ['L', L],
          ['C', C],
        ]),
        notes: [
          'f′ is written in terms of the output y, as the engine computes it.',
          ...(config.activation === 'relu' ? [RELU_NOTE] : []),
        ],
      };
    case 'Flatten':
      return {
        title: 'Flatten',
        definition: 'y[tC + c] = x[t,c]',
        derivative: "\\frac{\\partial y[tC+c]}{\\partial x[t',c']} = \\delta_{tt'}\\,\\delta_{cc'}",
        sizes: sizesOf([
          ['L', L],
          ['C', C],
        ]),
        notes: ['A reshape moves no values: the Jacobian is the identity.'],
      };
    case 'TimeSum':
    case 'GlobalAveragePooling1D': {
      const mean = config.type === 'GlobalAveragePooling1D';
      return {
        title: mean ? 'GlobalAveragePooling1D' : "TimeSum (the TDNN's integration over time)",
        definition: `y[c] = ${mean ? '\\frac{1}{L}' : ''}\\sum_{t=0}^{L-1} x[t,c]`,
        derivative: `\\frac{\\partial y[c]}{\\partial x[t,c']} = ${mean ? "\\frac{\\delta_{cc'}}{L}" : "\\delta_{cc'}"}`,
        sizes: sizesOf([
          ['L', L],
          ['C', C],
        ]),
        notes: [],
      };
    }
    case 'BatchNormalization':
      return {
        title: "Batch normalisation (training: the batch's own statistics)",
        definition:
          '\\mu_c = \\frac{1}{N} \\sum_{t} x[t,c], \\quad \\sigma_c^2 = \\frac{1}{N} \\sum_{t} (x[t,c] - \\mu_c)^2, \\quad \\hat x[t,c] = \\frac{x[t,c] - \\mu_c}{\\sqrt{\\sigma_c^2 + \\varepsilon}}, \\quad y[t,c] = \\gamma_c\\,\\hat x[t,c] + \\beta_c',
        derivative:
          "\\frac{\\partial y[t,c]}{\\partial x[t',c']} = \\delta_{cc'}\\,\\frac{\\gamma_c}{\\sqrt{\\sigma_c^2 + \\varepsilon}} \\Big( \\delta_{tt'} - \\frac{1}{N} - \\frac{\\hat x[t,c]\\,\\hat x[t',c]}{N} \\Big)",
        sizes: `${sizesOf([
          ['N', L],
          ['C', C],
        ])},\\ \\varepsilon = ${config.epsilon}`,
        notes: [
          'One example: each channel is normalised over its L time steps (N = L). Every output depends on every input of its channel, through μ and σ².',
        ],
      };
    case 'Dropout':
      return {
        title: 'Dropout (training, mask frozen)',
        definition: 'y_i = x_i\\,\\frac{m_i}{1-r}, \\qquad m_i \\sim \\operatorname{Bernoulli}(1-r)',
        derivative: '\\frac{\\partial y_i}{\\partial x_j} = \\delta_{ij}\\,\\frac{m_i}{1-r}',
        sizes: `${sizesOf([
          ['L', L],
          ['C', C],
        ])},\\ r = ${config.rate}`,
        notes: [
          'The mask is drawn once from the seeded dropout stream and then held fixed, so all three Jacobians see one function.',
        ],
      };
  }
}
