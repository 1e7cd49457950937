import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/** The exports of kernels.wat (pointers are byte offsets into the arena's memory; sizes are element counts). */
export interface Kernels {
  gemm(
    M: number,
    N: number,
    P: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
  ): void;
  conv_forward(
    x: number,
    w: number,
    y: number,
    batch: number,
    xStride: number,
    yStride: number,
    F: number,
    rowStride: number,
    jobs: number,
    jobCount: number,
  ): void;
  conv_backward_weights(
    x: number,
    dz: number,
    dw: number,
    batch: number,
    xStride: number,
    yStride: number,
    F: number,
    rowStride: number,
    jobs: number,
    jobCount: number,
  ): void;
  conv_backward_input(
    dz: number,
    wt: number,
    dx: number,
    batch: number,
    xStride: number,
    yStride: number,
    C: number,
    F: number,
    rowStride: number,
    jobs: number,
    jobCount: number,
  ): void;
  max_pool_forward(
    x: number,
    y: number,
    argmax: number,
    batch: number,
    L: number,
    C: number,
    T: number,
    W: number,
    S: number,
    P: number,
  ): void;
  max_pool_backward(dy: number, dx: number, argmax: number, n: number): void;
  /** Forward (backward 0): x → y. Backward (1): dy (in y's place) → dx (in x's place). */
  average_pool(
    backward: number,
    x: number,
    y: number,
    batch: number,
    L: number,
    C: number,
    T: number,
    W: number,
    S: number,
    P: number,
  ): void;
  time_sum_forward(x: number, y: number, batch: number, T: number, C: number, scale: number): void;
  time_sum_backward(dy: number, dx: number, batch: number, T: number, C: number, scale: number): void;
  transpose(src: number, dst: number, rows: number, cols: number, count: number): void;
  fill_rows(y: number, bias: number, rows: number, n: number): void;
  column_sums(z: number, out: number, rows: number, n: number): void;
  batch_norm_forward(
    x: number,
    y: number,
    n: number,
    C: number,
    stats: number,
    gamma: number,
    beta: number,
    movingMean: number,
    movingVar: number,
    eps: number,
    decay: number,
    training: number,
  ): void;
  batch_norm_backward(
    x: number,
    dy: number,
    dx: number,
    n: number,
    C: number,
    stats: number,
    dGamma: number,
    dBeta: number,
    centre: number,
  ): void;
  activate(kind: number, a: number, n: number, scratch: number): void;
  activation_backward(kind: number, y: number, dy: number, dz: number, n: number): void;
  sgd(w: number, g: number, n: number, lr: number, decay: number): void;
  momentum(w: number, g: number, acc: number, n: number, lr: number, mu: number, nesterov: number, decay: number): void;
  adam(
    w: number,
    g: number,
    m: number,
    v: number,
    n: number,
    minusLr: number,
    b1: number,
    b2: number,
    oneMinusB1: number,
    oneMinusB2: number,
    c1: number,
    c2: number,
    eps: number,
    decay: number,
  ): void;
}

let compiled: WebAssembly.Module | null = null;

/** The kernels module, compiled once per process (synchronously: it is small, and engines are built synchronously). */
function kernelsModule(): WebAssembly.Module {
  if (!compiled) {
    const binary = atob(KERNELS_WASM_BASE64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** An instance of the kernels working on `memory`. */
export function instantiateKernels(memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(kernelsModule(), { env: { memory } });
  return instance.exports as unknown as Kernels;
}
