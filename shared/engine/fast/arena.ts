import type { FloatArray, FloatArrayCtor } from '../types';
import { NETWORK_MEMORY_LIMIT, networkTooLarge } from '../memory';
import { instantiateKernels, type Kernels } from './kernels';

/** Where a network's buffers come from: counted first (ArenaSizer), then placed (Arena). */
export interface Allocator {
  f32(n: number): Float32Array;
  f64(n: number): Float64Array;
  i32(n: number): Int32Array;
  /** A Float32Array "constructor" whose `new ctor(n)` allocates here: the reference layers' buffers go through it. */
  readonly ctor: FloatArrayCtor;
}

/**
 * Every buffer starts on, and takes a whole multiple of, 16 bytes: the kernels may then read
 * and write whole 4-lane vectors up to the end of a buffer's last vector (its own padding).
 */
const ALIGN = 16;
/** Kept free at the start (pointer 0 means "none" to the kernels) and at the end (a load of a partial vector may read past the last buffer). */
const GUARD = 64;
const PAGE = 65536;

const aligned = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

function ctorOf(alloc: (n: number) => Float32Array): FloatArrayCtor {
  // `new` on a function that returns an object yields that object.
  return function ArenaFloat32Array(n: number) {
    return alloc(n);
  } as unknown as FloatArrayCtor;
}

/** Counts the bytes a build allocates; hands out ordinary arrays meanwhile. */
export class ArenaSizer implements Allocator {
  bytes = GUARD;
  readonly ctor = ctorOf((n) => this.f32(n));

  f32(n: number): Float32Array {
    this.bytes += aligned(n * 4);
    return new Float32Array(n);
  }

  f64(n: number): Float64Array {
    this.bytes += aligned(n * 8);
    return new Float64Array(n);
  }

  i32(n: number): Int32Array {
    this.bytes += aligned(n * 4);
    return new Int32Array(n);
  }
}

/**
 * One WebAssembly memory holding every buffer of a network, sized once at build and never
 * grown (growing would detach the views the layers hold), with the kernels bound to it.
 */
export class Arena implements Allocator {
  readonly memory: WebAssembly.Memory;
  readonly kernels: Kernels;
  private offset = GUARD;
  private readonly size: number;
  readonly ctor = ctorOf((n) => this.f32(n));

  constructor(bytes: number) {
    const pages = Math.ceil((bytes + GUARD) / PAGE);
    if (pages * PAGE > NETWORK_MEMORY_LIMIT) throw networkTooLarge(pages * PAGE, 'every buffer of the scratch engine');
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.size = pages * PAGE - GUARD;
    this.kernels = instantiateKernels(this.memory);
  }

  private take(bytes: number): number {
    const at = this.offset;
    this.offset += aligned(bytes);
    if (this.offset > this.size)
      throw new Error(
        `arena: out of memory (${this.offset} of ${this.size} bytes): the sizing pass and the build disagree`,
      );
    return at;
  }

  f32(n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.take(n * 4), n);
  }

  f64(n: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.take(n * 8), n);
  }

  i32(n: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.take(n * 4), n);
  }

  /** Whether `a` is a view into this arena. */
  holds(a: FloatArray): boolean {
    return a.buffer === this.memory.buffer;
  }

  /** The address of `x`'s first n values: x itself when it is in the arena, else a copy in `stage`. */
  place(x: FloatArray, stage: Float32Array, n: number): number {
    if (this.holds(x)) return x.byteOffset;
    stage.set(x.subarray(0, n));
    return stage.byteOffset;
  }

  /** The byte address of a view into this arena. */
  ptr(a: Float32Array | Float64Array | Int32Array): number {
    if (a.buffer !== this.memory.buffer) throw new Error('arena: buffer is not in this arena');
    return a.byteOffset;
  }
}
