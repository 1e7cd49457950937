import { ActivationStage, elementwise, type ActivationName, type ElementwiseActivation } from '../activations';
import { allocateWeights, type ParamShape } from '../layers/descriptor';
import { sizeOf, type FloatArray, type Param } from '../types';
import type { Arena, ArenaSizer } from './arena';

/** The kernels' activation codes (kernels.wat). */
export const ACTIVATION_CODES: Record<ElementwiseActivation, number> = { linear: 0, sigmoid: 1, tanh: 2, relu: 3 };

/**
 * What every fast layer shares: its output and input-gradient buffers in the arena, and
 * inputs (x forward, dy backward) copied into the arena when they come from outside it
 * (the network's input, a caller's array).
 */
export abstract class FastLayer {
  readonly name: string;
  needInputGrad = true;
  protected readonly inSize: number;
  protected readonly outSize: number;
  protected readonly y: Float32Array;
  protected readonly dx: Float32Array;
  private readonly xStage: Float32Array;
  private readonly dyStage: Float32Array;

  constructor(
    name: string,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    private readonly alloc: Arena | ArenaSizer,
  ) {
    this.name = name;
    this.inSize = sizeOf(inputShape);
    this.outSize = sizeOf(outputShape);
    this.y = alloc.f32(maxBatch * this.outSize);
    this.dx = alloc.f32(maxBatch * this.inSize);
    this.xStage = alloc.f32(maxBatch * this.inSize);
    this.dyStage = alloc.f32(maxBatch * this.outSize);
  }

  /** The arena, once built (the sizing pass never runs a layer). */
  protected get arena(): Arena {
    if (!('kernels' in this.alloc)) throw new Error(`${this.name}: a layer built by the sizing pass cannot run`);
    return this.alloc;
  }

  /** The address of forward's input. */
  protected inputPtr(x: FloatArray, batch: number): number {
    return this.arena.place(x, this.xStage, batch * this.inSize);
  }

  /** The address of backward's output gradient. */
  protected outputGradPtr(dy: FloatArray, batch: number): number {
    return this.arena.place(dy, this.dyStage, batch * this.outSize);
  }
}

/**
 * What the fast Conv1D and Dense add: the params their descriptor infers (as the reference layer's), the
 * bias as y's starting value, and the fused activation.
 */
export abstract class FastParamLayer extends FastLayer {
  readonly params: Param[];
  protected readonly kernel: Param;
  protected readonly bias: Param | null;
  protected readonly stage: ActivationStage;
  protected readonly activationCode: number;
  /** dL/dz, z the pre-activation. */
  protected readonly dz: Float32Array;
  /** Output channels (Conv1D filters, Dense units): the last axis of y. */
  protected readonly filters: number;
  /** Address of the last forward's input. */
  protected xPtr = 0;

  constructor(
    name: string,
    /** The kernel and (optionally) the bias, as the layer's descriptor infers them. */
    weights: readonly ParamShape[],
    activation: ActivationName,
    inputShape: readonly number[],
    outputShape: readonly number[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
  ) {
    super(name, inputShape, outputShape, maxBatch, alloc);
    this.params = allocateWeights(weights, alloc.ctor).params;
    [this.kernel] = this.params;
    this.bias = this.params[1] ?? null;
    this.filters = this.kernel.shape[this.kernel.shape.length - 1];
    this.stage = new ActivationStage(elementwise(activation));
    this.activationCode = ACTIVATION_CODES[this.stage.kind];
    this.dz = alloc.f32(maxBatch * this.outSize);
  }

  /** Places the input and starts y at the bias. */
  protected beginForward(x: FloatArray, batch: number): void {
    const a = this.arena,
      F = this.filters;
    this.xPtr = this.inputPtr(x, batch);
    a.kernels.fill_rows(a.ptr(this.y), this.bias ? a.ptr(this.bias.value) : 0, (batch * this.outSize) / F, F);
  }

  /** y = act(z) in place (dz, free until backward, as the kernel's scratch). */
  protected endForward(batch: number): Float32Array {
    const a = this.arena;
    a.kernels.activate(this.activationCode, a.ptr(this.y), batch * this.outSize, a.ptr(this.dz));
    return this.y;
  }

  /** dz = dy · act'(z), and the bias gradient Σ dz over rows; zeroes the kernel gradient. Returns dz's address. */
  protected beginBackward(dy: FloatArray, batch: number): number {
    const a = this.arena,
      n = batch * this.outSize,
      dzPtr = a.ptr(this.dz);
    a.kernels.activation_backward(this.activationCode, a.ptr(this.y), this.outputGradPtr(dy, batch), dzPtr, n);
    if (this.bias) a.kernels.column_sums(dzPtr, a.ptr(this.bias.grad), n / this.filters, this.filters);
    this.kernel.grad.fill(0);
    return dzPtr;
  }

  kinkSignature(batch: number): number {
    return this.stage.kinkSignature(this.y, batch * this.outSize);
  }
}
