;; The scratch engine's fast path: hand-written WebAssembly SIMD kernels.
;; Assembled by `npm run build:wasm` into kernels-wasm.ts (kernels-wasm.test.ts checks it is up to date).
;;
;; Every buffer lives in one imported memory that is sized once and never grows, so the
;; Float32Array views the layers hold stay valid. Pointers are byte offsets; sizes and strides
;; are counts of float32 elements. Buffers are 16-byte aligned multiples of 16 bytes (arena.ts):
;; a load of a partial 4-lane vector may read up to 12 bytes past a buffer (the arena keeps a
;; slack at its end); the GEMM stores only the lanes it owns; elementwise kernels write whole
;; vectors, into their buffer's own padding.
;;
;; The arithmetic follows the reference layers' summation order (bias first, then kernel taps
;; k, then input channels c, each product added in float32), so the fast path differs from the
;; reference only by float32-versus-float64 rounding of the individual additions.
(module
  (import "env" "memory" (memory 1))

  ;; ---------------------------------------------------------------------------------------
  ;; GEMM:  C[i,j] += Σ_p A[i·ars + p·acs] · B[p·ldb + j]   for i < M, j < N, p < P.
  ;; A is read through two strides, so the same kernel computes A·B, Aᵀ·B and strided
  ;; (convolution window) views of A. Vectorised over j, in tiles of 4 rows × 8 columns.
  ;; Tile arguments are byte pointers and byte strides.
  ;; ---------------------------------------------------------------------------------------

  ;; Stores the first n (1…4) lanes of v at p.
  (func $store_lanes (param $p i32) (param $v v128) (param $n i32)
    (if (i32.ge_u (local.get $n) (i32.const 4))
      (then (v128.store (local.get $p) (local.get $v)) (return)))
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.gt_u (local.get $n) (i32.const 1))
      (then (f32.store offset=4 (local.get $p) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.gt_u (local.get $n) (i32.const 2))
      (then (f32.store offset=8 (local.get $p) (f32x4.extract_lane 2 (local.get $v))))))

  (func $tile4x8 (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $ldb i32)
                 (param $c i32) (param $ldc i32) (param $P i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $x00 v128) (local $x01 v128) (local $x10 v128) (local $x11 v128)
    (local $x20 v128) (local $x21 v128) (local $x30 v128) (local $x31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (local.set $x00 (v128.load (local.get $c)))
    (local.set $x01 (v128.load offset=16 (local.get $c)))
    (local.set $x10 (v128.load (local.get $c1)))
    (local.set $x11 (v128.load offset=16 (local.get $c1)))
    (local.set $x20 (v128.load (local.get $c2)))
    (local.set $x21 (v128.load offset=16 (local.get $c2)))
    (local.set $x30 (v128.load (local.get $c3)))
    (local.set $x31 (v128.load offset=16 (local.get $c3)))
    (loop $p
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $s (f32x4.splat (f32.load (local.get $a))))
      (local.set $x00 (f32x4.add (local.get $x00) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x01 (f32x4.add (local.get $x01) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (f32x4.splat (f32.load (local.get $a1))))
      (local.set $x10 (f32x4.add (local.get $x10) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x11 (f32x4.add (local.get $x11) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (f32x4.splat (f32.load (local.get $a2))))
      (local.set $x20 (f32x4.add (local.get $x20) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x21 (f32x4.add (local.get $x21) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (f32x4.splat (f32.load (local.get $a3))))
      (local.set $x30 (f32x4.add (local.get $x30) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x31 (f32x4.add (local.get $x31) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $acs)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $acs)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $p (local.tee $P (i32.sub (local.get $P) (i32.const 1)))))
    (v128.store (local.get $c) (local.get $x00))
    (v128.store offset=16 (local.get $c) (local.get $x01))
    (v128.store (local.get $c1) (local.get $x10))
    (v128.store offset=16 (local.get $c1) (local.get $x11))
    (v128.store (local.get $c2) (local.get $x20))
    (v128.store offset=16 (local.get $c2) (local.get $x21))
    (v128.store (local.get $c3) (local.get $x30))
    (v128.store offset=16 (local.get $c3) (local.get $x31)))

  ;; 4 × 8 when A's four rows are adjacent (ars = 1, as in Aᵀ·B): one load brings all four.
  (func $tile4x8t (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32)
                  (param $c i32) (param $ldc i32) (param $P i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $x00 v128) (local $x01 v128) (local $x10 v128) (local $x11 v128)
    (local $x20 v128) (local $x21 v128) (local $x30 v128) (local $x31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128) (local $s v128)
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (local.set $x00 (v128.load (local.get $c)))
    (local.set $x01 (v128.load offset=16 (local.get $c)))
    (local.set $x10 (v128.load (local.get $c1)))
    (local.set $x11 (v128.load offset=16 (local.get $c1)))
    (local.set $x20 (v128.load (local.get $c2)))
    (local.set $x21 (v128.load offset=16 (local.get $c2)))
    (local.set $x30 (v128.load (local.get $c3)))
    (local.set $x31 (v128.load offset=16 (local.get $c3)))
    (loop $p
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $av (v128.load (local.get $a)))
      (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $av) (local.get $av)))
      (local.set $x00 (f32x4.add (local.get $x00) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x01 (f32x4.add (local.get $x01) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $av) (local.get $av)))
      (local.set $x10 (f32x4.add (local.get $x10) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x11 (f32x4.add (local.get $x11) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $av) (local.get $av)))
      (local.set $x20 (f32x4.add (local.get $x20) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x21 (f32x4.add (local.get $x21) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $av) (local.get $av)))
      (local.set $x30 (f32x4.add (local.get $x30) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $x31 (f32x4.add (local.get $x31) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $p (local.tee $P (i32.sub (local.get $P) (i32.const 1)))))
    (v128.store (local.get $c) (local.get $x00))
    (v128.store offset=16 (local.get $c) (local.get $x01))
    (v128.store (local.get $c1) (local.get $x10))
    (v128.store offset=16 (local.get $c1) (local.get $x11))
    (v128.store (local.get $c2) (local.get $x20))
    (v128.store offset=16 (local.get $c2) (local.get $x21))
    (v128.store (local.get $c3) (local.get $x30))
    (v128.store offset=16 (local.get $c3) (local.get $x31)))

  ;; 4 rows × n (1…4) columns.
  (func $tile4x4 (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $ldb i32)
                 (param $c i32) (param $ldc i32) (param $P i32) (param $n i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $b0 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (local.set $x0 (v128.load (local.get $c)))
    (local.set $x1 (v128.load (local.get $c1)))
    (local.set $x2 (v128.load (local.get $c2)))
    (local.set $x3 (v128.load (local.get $c3)))
    (loop $p
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $x0 (f32x4.add (local.get $x0) (f32x4.mul (f32x4.splat (f32.load (local.get $a))) (local.get $b0))))
      (local.set $x1 (f32x4.add (local.get $x1) (f32x4.mul (f32x4.splat (f32.load (local.get $a1))) (local.get $b0))))
      (local.set $x2 (f32x4.add (local.get $x2) (f32x4.mul (f32x4.splat (f32.load (local.get $a2))) (local.get $b0))))
      (local.set $x3 (f32x4.add (local.get $x3) (f32x4.mul (f32x4.splat (f32.load (local.get $a3))) (local.get $b0))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $acs)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $acs)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $p (local.tee $P (i32.sub (local.get $P) (i32.const 1)))))
    (call $store_lanes (local.get $c) (local.get $x0) (local.get $n))
    (call $store_lanes (local.get $c1) (local.get $x1) (local.get $n))
    (call $store_lanes (local.get $c2) (local.get $x2) (local.get $n))
    (call $store_lanes (local.get $c3) (local.get $x3) (local.get $n)))

  ;; 1 row × 8 columns.
  (func $tile1x8 (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32) (param $c i32) (param $P i32)
    (local $x0 v128) (local $x1 v128) (local $s v128)
    (local.set $x0 (v128.load (local.get $c)))
    (local.set $x1 (v128.load offset=16 (local.get $c)))
    (loop $p
      (local.set $s (f32x4.splat (f32.load (local.get $a))))
      (local.set $x0 (f32x4.add (local.get $x0) (f32x4.mul (local.get $s) (v128.load (local.get $b)))))
      (local.set $x1 (f32x4.add (local.get $x1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $p (local.tee $P (i32.sub (local.get $P) (i32.const 1)))))
    (v128.store (local.get $c) (local.get $x0))
    (v128.store offset=16 (local.get $c) (local.get $x1)))

  ;; 1 row × n (1…4) columns.
  (func $tile1x4 (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32) (param $c i32) (param $P i32) (param $n i32)
    (local $x0 v128)
    (local.set $x0 (v128.load (local.get $c)))
    (loop $p
      (local.set $x0 (f32x4.add (local.get $x0)
        (f32x4.mul (f32x4.splat (f32.load (local.get $a))) (v128.load (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $p (local.tee $P (i32.sub (local.get $P) (i32.const 1)))))
    (call $store_lanes (local.get $c) (local.get $x0) (local.get $n)))

  (func $gemm (export "gemm")
        (param $M i32) (param $N i32) (param $P i32)
        (param $a i32) (param $ars i32) (param $acs i32)
        (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (local $i i32) (local $j i32) (local $ai i32) (local $ci i32)
    (if (i32.or (i32.or (i32.eqz (local.get $M)) (i32.eqz (local.get $N))) (i32.eqz (local.get $P)))
      (then (return)))
    (local.set $ars (i32.shl (local.get $ars) (i32.const 2)))
    (local.set $acs (i32.shl (local.get $acs) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    ;; Rows in fours.
    (block $rows4done
      (loop $rows4
        (br_if $rows4done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $M)))
        (local.set $ai (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ars))))
        (local.set $ci (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $j (i32.const 0))
        (block $cols8done
          (loop $cols8
            (br_if $cols8done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
            (if (i32.eq (local.get $ars) (i32.const 4))
              (then (call $tile4x8t (local.get $ai) (local.get $acs)
                (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc) (local.get $P)))
              (else (call $tile4x8 (local.get $ai) (local.get $ars) (local.get $acs)
                (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc) (local.get $P))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols8)))
        (block $cols4done
          (loop $cols4
            (br_if $cols4done (i32.ge_u (local.get $j) (local.get $N)))
            (call $tile4x4 (local.get $ai) (local.get $ars) (local.get $acs)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc) (local.get $P)
              (i32.sub (local.get $N) (local.get $j)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols4)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows4)))
    ;; The last rows one by one.
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $ai (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ars))))
        (local.set $ci (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $j (i32.const 0))
        (block $cols8done
          (loop $cols8
            (br_if $cols8done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
            (call $tile1x8 (local.get $ai) (local.get $acs)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $P))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols8)))
        (block $cols4done
          (loop $cols4
            (br_if $cols4done (i32.ge_u (local.get $j) (local.get $N)))
            (call $tile1x4 (local.get $ai) (local.get $acs)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $P)
              (i32.sub (local.get $N) (local.get $j)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------------------------------
  ;; Conv1D as GEMMs per example, listed in a job table of five i32s per job:
  ;;   t0     the first output step of the job,
  ;;   count  how many consecutive output steps,
  ;;   xOff   the input offset (elements) of step t0's first tap: (t0·s + k·d − p)·C,
  ;;   wOff   the kernel offset (elements) of the job's first tap: k·C·F,
  ;;   P      the reduction length: C for one tap, K·C for all taps of a contiguous window
  ;;          (dilation 1, every tap inside the input), whose inputs are then one run of memory.
  ;; x is [batch, L, C] (xStride = L·C), y and dz are [batch, T, F] (yStride = T·F), the kernel
  ;; W is [K, C, F]; consecutive output steps read input rows rowStride = s·C apart.
  ;; ---------------------------------------------------------------------------------------

  ;; y[b, t, :] += Σ_taps x[b, t·s + k·d − p, :] · W[k]   (y holds the bias already).
  (func (export "conv_forward")
        (param $x i32) (param $w i32) (param $y i32) (param $batch i32) (param $xStride i32) (param $yStride i32)
        (param $F i32) (param $rowStride i32) (param $jobs i32) (param $jobCount i32)
    (local $b i32) (local $job i32) (local $end i32) (local $xb i32) (local $yb i32)
    (loop $examples
      (local.set $xb (i32.add (local.get $x) (i32.shl (i32.mul (local.get $b) (local.get $xStride)) (i32.const 2))))
      (local.set $yb (i32.add (local.get $y) (i32.shl (i32.mul (local.get $b) (local.get $yStride)) (i32.const 2))))
      (local.set $job (local.get $jobs))
      (local.set $end (i32.add (local.get $jobs) (i32.mul (local.get $jobCount) (i32.const 20))))
      (loop $each
        (call $gemm
          (i32.load offset=4 (local.get $job)) (local.get $F) (i32.load offset=16 (local.get $job))
          (i32.add (local.get $xb) (i32.shl (i32.load offset=8 (local.get $job)) (i32.const 2))) (local.get $rowStride) (i32.const 1)
          (i32.add (local.get $w) (i32.shl (i32.load offset=12 (local.get $job)) (i32.const 2))) (local.get $F)
          (i32.add (local.get $yb) (i32.shl (i32.mul (i32.load (local.get $job)) (local.get $F)) (i32.const 2))) (local.get $F))
        (br_if $each (i32.lt_u (local.tee $job (i32.add (local.get $job) (i32.const 20))) (local.get $end))))
      (br_if $examples (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $batch)))))

  ;; dW[taps] += Σ_b Σ_t x[b, t·s + k·d − p, :]ᵀ · dz[b, t, :]   (dW zeroed by the caller).
  (func (export "conv_backward_weights")
        (param $x i32) (param $dz i32) (param $dw i32) (param $batch i32) (param $xStride i32) (param $yStride i32)
        (param $F i32) (param $rowStride i32) (param $jobs i32) (param $jobCount i32)
    (local $b i32) (local $job i32) (local $end i32) (local $xb i32) (local $zb i32)
    (loop $examples
      (local.set $xb (i32.add (local.get $x) (i32.shl (i32.mul (local.get $b) (local.get $xStride)) (i32.const 2))))
      (local.set $zb (i32.add (local.get $dz) (i32.shl (i32.mul (local.get $b) (local.get $yStride)) (i32.const 2))))
      (local.set $job (local.get $jobs))
      (local.set $end (i32.add (local.get $jobs) (i32.mul (local.get $jobCount) (i32.const 20))))
      (loop $each
        (call $gemm
          (i32.load offset=16 (local.get $job)) (local.get $F) (i32.load offset=4 (local.get $job))
          (i32.add (local.get $xb) (i32.shl (i32.load offset=8 (local.get $job)) (i32.const 2))) (i32.const 1) (local.get $rowStride)
          (i32.add (local.get $zb) (i32.shl (i32.mul (i32.load (local.get $job)) (local.get $F)) (i32.const 2))) (local.get $F)
          (i32.add (local.get $dw) (i32.shl (i32.load offset=12 (local.get $job)) (i32.const 2))) (local.get $F))
        (br_if $each (i32.lt_u (local.tee $job (i32.add (local.get $job) (i32.const 20))) (local.get $end))))
      (br_if $examples (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $batch)))))

  ;; dx[b, t·s + k·d − p, :] += dz[b, t, :] · Wᵀ[k] over one-tap jobs (their output rows must not
  ;; overlap), with wt the kernel transposed per tap ([K, F, C], so wOff = k·F·C); dx zeroed by the caller.
  (func (export "conv_backward_input")
        (param $dz i32) (param $wt i32) (param $dx i32) (param $batch i32) (param $xStride i32) (param $yStride i32)
        (param $C i32) (param $F i32) (param $rowStride i32) (param $jobs i32) (param $jobCount i32)
    (local $b i32) (local $job i32) (local $end i32) (local $xb i32) (local $zb i32)
    (loop $examples
      (local.set $xb (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $b) (local.get $xStride)) (i32.const 2))))
      (local.set $zb (i32.add (local.get $dz) (i32.shl (i32.mul (local.get $b) (local.get $yStride)) (i32.const 2))))
      (local.set $job (local.get $jobs))
      (local.set $end (i32.add (local.get $jobs) (i32.mul (local.get $jobCount) (i32.const 20))))
      (loop $each
        (call $gemm
          (i32.load offset=4 (local.get $job)) (local.get $C) (local.get $F)
          (i32.add (local.get $zb) (i32.shl (i32.mul (i32.load (local.get $job)) (local.get $F)) (i32.const 2))) (local.get $F) (i32.const 1)
          (i32.add (local.get $wt) (i32.shl (i32.load offset=12 (local.get $job)) (i32.const 2))) (local.get $C)
          (i32.add (local.get $xb) (i32.shl (i32.load offset=8 (local.get $job)) (i32.const 2))) (local.get $rowStride))
        (br_if $each (i32.lt_u (local.tee $job (i32.add (local.get $job) (i32.const 20))) (local.get $end))))
      (br_if $examples (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $batch)))))

  ;; ---------------------------------------------------------------------------------------
  ;; Pooling over time, channels-last, C a multiple of 4 (vectorised over channels).
  ;; Window i covers input steps [max(i·s − p, 0), min(i·s − p + W, L)).
  ;; ---------------------------------------------------------------------------------------

  ;; y[b,i,c] = max over the window (the first maximum wins ties); argmax gets its flat input index.
  (func (export "max_pool_forward")
        (param $x i32) (param $y i32) (param $argmax i32) (param $batch i32) (param $L i32) (param $C i32)
        (param $T i32) (param $W i32) (param $S i32) (param $P i32)
    (local $b i32) (local $i i32) (local $c i32) (local $j i32) (local $start i32) (local $end i32)
    (local $row i32) (local $best v128) (local $at v128) (local $v v128) (local $m v128) (local $idx v128) (local $out i32)
    (local.set $out (i32.const 0))
    (loop $examples
      (local.set $i (i32.const 0))
      (loop $windows
        (local.set $start (i32.sub (i32.mul (local.get $i) (local.get $S)) (local.get $P)))
        (local.set $end (i32.add (local.get $start) (local.get $W)))
        (if (i32.lt_s (local.get $start) (i32.const 0)) (then (local.set $start (i32.const 0))))
        (if (i32.gt_s (local.get $end) (local.get $L)) (then (local.set $end (local.get $L))))
        (local.set $c (i32.const 0))
        (loop $channels
          ;; flat index of x[b, start, c + lane]
          (local.set $row (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $L)) (local.get $start)) (local.get $C)) (local.get $c)))
          (local.set $at (i32x4.add (i32x4.splat (local.get $row)) (v128.const i32x4 0 1 2 3)))
          (local.set $best (v128.load (i32.add (local.get $x) (i32.shl (local.get $row) (i32.const 2)))))
          (local.set $idx (local.get $at))
          (local.set $j (i32.add (local.get $start) (i32.const 1)))
          (block $done
            (loop $steps
              (br_if $done (i32.ge_s (local.get $j) (local.get $end)))
              (local.set $at (i32x4.add (local.get $at) (i32x4.splat (local.get $C))))
              (local.set $v (v128.load (i32.add (local.get $x) (i32.shl (i32x4.extract_lane 0 (local.get $at)) (i32.const 2)))))
              (local.set $m (f32x4.gt (local.get $v) (local.get $best)))
              (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
              (local.set $idx (v128.bitselect (local.get $at) (local.get $idx) (local.get $m)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $steps)))
          (v128.store (i32.add (local.get $y) (local.get $out)) (local.get $best))
          (v128.store (i32.add (local.get $argmax) (local.get $out)) (local.get $idx))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $C))))
        (br_if $windows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $T))))
      (br_if $examples (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $batch)))))

  ;; dx[argmax[o]] += dy[o] for o < n (dx zeroed by the caller).
  (func (export "max_pool_backward") (param $dy i32) (param $dx i32) (param $argmax i32) (param $n i32)
    (local $at i32) (local $end i32)
    (local.set $end (i32.add (local.get $dy) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $dy) (local.get $end)))
        (local.set $at (i32.add (local.get $dx) (i32.shl (i32.load (local.get $argmax)) (i32.const 2))))
        (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32.load (local.get $dy))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $argmax (i32.add (local.get $argmax) (i32.const 4)))
        (br $each))))

  ;; y[b,i,c] = (1/|window|) Σ_window x[b,j,c] (padding not counted); or, backward
  ;; (backward ≠ 0), dx[b,j,c] += dy[b,i,c] / |window| over each window (dx zeroed by the caller).
  (func (export "average_pool") (param $backward i32)
        (param $x i32) (param $y i32) (param $batch i32) (param $L i32) (param $C i32)
        (param $T i32) (param $W i32) (param $S i32) (param $P i32)
    (local $b i32) (local $i i32) (local $c i32) (local $j i32) (local $start i32) (local $end i32)
    (local $in i32) (local $out i32) (local $acc v128) (local $count v128) (local $g v128)
    (loop $examples
      (local.set $i (i32.const 0))
      (loop $windows
        (local.set $start (i32.sub (i32.mul (local.get $i) (local.get $S)) (local.get $P)))
        (local.set $end (i32.add (local.get $start) (local.get $W)))
        (if (i32.lt_s (local.get $start) (i32.const 0)) (then (local.set $start (i32.const 0))))
        (if (i32.gt_s (local.get $end) (local.get $L)) (then (local.set $end (local.get $L))))
        (local.set $count (f32x4.splat (f32.convert_i32_s (i32.sub (local.get $end) (local.get $start)))))
        (local.set $c (i32.const 0))
        (loop $channels
          (local.set $out (i32.add (local.get $y)
            (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $T)) (local.get $i)) (local.get $C)) (local.get $c)) (i32.const 2))))
          (local.set $in (i32.add (local.get $x)
            (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $L)) (local.get $start)) (local.get $C)) (local.get $c)) (i32.const 2))))
          (local.set $acc (v128.const i32x4 0 0 0 0))
          (local.set $g (f32x4.div (v128.load (local.get $out)) (local.get $count)))
          (local.set $j (local.get $start))
          (block $done
            (loop $steps
              (br_if $done (i32.ge_s (local.get $j) (local.get $end)))
              (if (local.get $backward)
                (then (v128.store (local.get $in) (f32x4.add (v128.load (local.get $in)) (local.get $g))))
                (else (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $in))))))
              (local.set $in (i32.add (local.get $in) (i32.shl (local.get $C) (i32.const 2))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $steps)))
          (if (i32.eqz (local.get $backward))
            (then (v128.store (local.get $out) (f32x4.div (local.get $acc) (local.get $count)))))
          (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $C))))
        (br_if $windows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $T))))
      (br_if $examples (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $batch)))))

  ;; y[b,c] = scale · Σ_t x[b,t,c] (a sum over time: scale 1; its mean: 1/T).
  (func (export "time_sum_forward") (param $x i32) (param $y i32) (param $batch i32) (param $T i32) (param $C i32) (param $scale f32)
    (local $b i32) (local $c i32) (local $t i32) (local $p i32) (local $s f32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (loop $examples
      (local.set $c (i32.const 0))
      (loop $channels
        (local.set $s (f32.const 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $T)) (local.get $C)) (local.get $c)) (i32.const 2))))
        (local.set $t (local.get $T))
        (loop $steps
          (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
          (br_if $steps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (if (f32.ne (local.get $scale) (f32.const 1)) (then (local.set $s (f32.mul (local.get $s) (local.get $scale)))))
        (f32.store (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $b) (local.get $C)) (local.get $c)) (i32.const 2))) (local.get $s))
        (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $C))))
      (br_if $examples (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $batch)))))

  ;; dx[b,t,c] = scale · dy[b,c].
  (func (export "time_sum_backward") (param $dy i32) (param $dx i32) (param $batch i32) (param $T i32) (param $C i32) (param $scale f32)
    (local $b i32) (local $t i32) (local $c i32) (local $row i32)
    (loop $examples
      (local.set $row (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $b) (local.get $C)) (i32.const 2))))
      (local.set $t (local.get $T))
      (loop $steps
        (local.set $c (i32.const 0))
        (loop $channels
          (f32.store (local.get $dx) (f32.mul (f32.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))) (local.get $scale)))
          (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
          (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $C))))
        (br_if $steps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
      (br_if $examples (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $batch)))))

  ;; ---------------------------------------------------------------------------------------
  ;; Small helpers around the GEMMs.
  ;; ---------------------------------------------------------------------------------------

  ;; dst[c, r] = src[r, c] for a rows × cols matrix, `count` matrices back to back.
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $count i32)
    (local $r i32) (local $c i32) (local $m i32) (local $size i32)
    (if (i32.or (i32.eqz (local.get $rows)) (i32.eqz (local.get $cols))) (then (return)))
    (local.set $size (i32.shl (i32.mul (local.get $rows) (local.get $cols)) (i32.const 2)))
    (block $done
      (loop $matrices
        (br_if $done (i32.ge_u (local.get $m) (local.get $count)))
        (local.set $r (i32.const 0))
        (loop $rowsLoop
          (local.set $c (i32.const 0))
          (loop $colsLoop
            (f32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
            (br_if $colsLoop (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $cols))))
          (br_if $rowsLoop (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $rows))))
        (local.set $src (i32.add (local.get $src) (local.get $size)))
        (local.set $dst (i32.add (local.get $dst) (local.get $size)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $matrices))))

  ;; Every row of the rows × n matrix y becomes bias (n values), or zero when bias is 0.
  (func (export "fill_rows") (param $y i32) (param $bias i32) (param $rows i32) (param $n i32)
    (local $j i32) (local $vecEnd i32)
    (if (i32.eqz (local.get $bias))
      (then (memory.fill (local.get $y) (i32.const 0) (i32.shl (i32.mul (local.get $rows) (local.get $n)) (i32.const 2))) (return)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $rowsLoop
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $vecdone
          (loop $vec
            (br_if $vecdone (i32.ge_u (local.get $j) (local.get $vecEnd)))
            (v128.store (i32.add (local.get $y) (local.get $j)) (v128.load (i32.add (local.get $bias) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $vec)))
        (block $scalardone
          (loop $scalar
            (br_if $scalardone (i32.ge_u (local.get $j) (local.get $n)))
            (f32.store (i32.add (local.get $y) (local.get $j)) (f32.load (i32.add (local.get $bias) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $scalar)))
        (local.set $y (i32.add (local.get $y) (local.get $n)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rowsLoop))))

  ;; out[j] = Σ_r z[r, j] over a rows × n matrix, rows summed in order (a bias gradient).
  (func (export "column_sums") (param $z i32) (param $out i32) (param $rows i32) (param $n i32)
    (local $j i32) (local $r i32) (local $p i32) (local $acc v128) (local $s f32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $n) (i32.const 2)))
    (block $vecdone
      (loop $vec
        (br_if $vecdone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $z) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (local.get $rows))
        (block $rdone
          (loop $rl
            (br_if $rdone (i32.eqz (local.get $r)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $rl)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
    (block $done
      (loop $scalar
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $s (f32.const 0))
        (local.set $p (i32.add (local.get $z) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (local.get $rows))
        (block $rdone
          (loop $rl
            (br_if $rdone (i32.eqz (local.get $r)))
            (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $rl)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $scalar))))

  ;; ---------------------------------------------------------------------------------------
  ;; Batch normalisation over channels (layers/batch-normalization.ts has the formulas), in
  ;; float64 like the reference layer, two channels per f64x2, C even. x, y, dy, dx are
  ;; [n, C] float32; `stats` holds six float64 rows of C: mean, invStd, scale, shift, and two
  ;; rows of backward scratch (sums, then slope and offset).
  ;; ---------------------------------------------------------------------------------------

  ;; acc[c] += Σ_rows f(row, c) for a float64 accumulator row: with `centre` 0, f = x; else
  ;; f = (x − centre[c])² (squares), or with `weights` ≠ 0, f = weights·(x − centre) (and
  ;; the plain sum of weights into acc2). Rows are summed in order, as the reference does.
  (func $column_moments (param $x i32) (param $n i32) (param $C i32) (param $acc i32) (param $centre i32)
                        (param $weights i32) (param $acc2 i32)
    (local $c i32) (local $row i32) (local $d v128) (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 2))))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $C) (i32.const 3)))
    (if (local.get $acc2) (then (memory.fill (local.get $acc2) (i32.const 0) (i32.shl (local.get $C) (i32.const 3)))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channels
          (local.set $d (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2))))))
          (if (local.get $centre)
            (then (local.set $d (f64x2.sub (local.get $d) (v128.load (i32.add (local.get $centre) (i32.shl (local.get $c) (i32.const 3))))))))
          (if (local.get $weights)
            (then
              (local.set $row (i32.add (local.get $acc2) (i32.shl (local.get $c) (i32.const 3))))
              (v128.store (local.get $row) (f64x2.add (v128.load (local.get $row))
                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $weights) (i32.shl (local.get $c) (i32.const 2)))))))
              (local.set $d (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $weights) (i32.shl (local.get $c) (i32.const 2))))) (local.get $d))))
            (else (if (local.get $centre) (then (local.set $d (f64x2.mul (local.get $d) (local.get $d)))))))
          (local.set $row (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
          (v128.store (local.get $row) (f64x2.add (v128.load (local.get $row)) (local.get $d)))
          (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 2))) (local.get $C))))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $C) (i32.const 2))))
        (if (local.get $weights) (then (local.set $weights (i32.add (local.get $weights) (i32.shl (local.get $C) (i32.const 2))))))
        (br $rows))))

  ;; out[i, c] = (a[i, c] − centre[c])·k1[c] + (b[i, c]·k2[c] when b ≠ 0) + k3[c], in float64,
  ;; stored as float32 (centre 0: no centring). y = x·scale + shift and dx = dy·scale + (x − μ)·slope + offset.
  (func $column_affine (param $out i32) (param $a i32) (param $centre i32) (param $k1 i32)
                       (param $b i32) (param $k2 i32) (param $k3 i32) (param $n i32) (param $C i32)
    (local $c i32) (local $end i32) (local $v v128) (local $o i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channels
          (local.set $o (i32.shl (local.get $c) (i32.const 3)))
          (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 2))))))
          (if (local.get $centre) (then (local.set $v (f64x2.sub (local.get $v) (v128.load (i32.add (local.get $centre) (local.get $o)))))))
          (local.set $v (f64x2.mul (local.get $v) (v128.load (i32.add (local.get $k1) (local.get $o)))))
          (if (local.get $b)
            (then (local.set $v (f64x2.add
              (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 2))))) (v128.load (i32.add (local.get $k2) (local.get $o))))
              (local.get $v)))))
          (v128.store64_lane 0 (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
            (f32x4.demote_f64x2_zero (f64x2.add (local.get $v) (v128.load (i32.add (local.get $k3) (local.get $o))))))
          (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 2))) (local.get $C))))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $C) (i32.const 2))))
        (if (local.get $b) (then (local.set $b (i32.add (local.get $b) (i32.shl (local.get $C) (i32.const 2))))))
        (br $rows))))

  ;; Forward. Training: μ, σ² (two passes) from the batch, moving statistics m ← m − (m − stat)·decay;
  ;; inference: μ, σ² from the moving statistics. Then scale = γ/√(σ² + ε), shift = β − μ·scale, y = x·scale + shift.
  (func (export "batch_norm_forward") (param $x i32) (param $y i32) (param $n i32) (param $C i32) (param $stats i32)
        (param $gamma i32) (param $beta i32) (param $movingMean i32) (param $movingVar i32)
        (param $eps f64) (param $decay f64) (param $training i32)
    (local $c i32) (local $mean i32) (local $invStd i32) (local $scale i32) (local $shift i32)
    (local $mu f64) (local $variance f64) (local $at i32) (local $row i32)
    (local.set $row (i32.shl (local.get $C) (i32.const 3)))
    (local.set $mean (local.get $stats))
    (local.set $invStd (i32.add (local.get $mean) (local.get $row)))
    (local.set $scale (i32.add (local.get $invStd) (local.get $row)))
    (local.set $shift (i32.add (local.get $scale) (local.get $row)))
    (if (local.get $training)
      (then
        (call $column_moments (local.get $x) (local.get $n) (local.get $C) (local.get $mean) (i32.const 0) (i32.const 0) (i32.const 0))
        (local.set $c (i32.const 0))
        (loop $means
          (local.set $at (i32.add (local.get $mean) (i32.shl (local.get $c) (i32.const 3))))
          (f64.store (local.get $at) (f64.div (f64.load (local.get $at)) (f64.convert_i32_u (local.get $n))))
          (br_if $means (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $C))))
        (call $column_moments (local.get $x) (local.get $n) (local.get $C) (local.get $invStd) (local.get $mean) (i32.const 0) (i32.const 0))))
    (local.set $c (i32.const 0))
    (loop $channels
      (local.set $at (i32.shl (local.get $c) (i32.const 3)))
      (if (local.get $training)
        (then
          (local.set $mu (f64.load (i32.add (local.get $mean) (local.get $at))))
          (local.set $variance (f64.div (f64.load (i32.add (local.get $invStd) (local.get $at))) (f64.convert_i32_u (local.get $n))))
          (call $ease (i32.add (local.get $movingMean) (i32.shl (local.get $c) (i32.const 2))) (local.get $mu) (local.get $decay))
          (call $ease (i32.add (local.get $movingVar) (i32.shl (local.get $c) (i32.const 2))) (local.get $variance) (local.get $decay)))
        (else
          (local.set $mu (f64.promote_f32 (f32.load (i32.add (local.get $movingMean) (i32.shl (local.get $c) (i32.const 2))))))
          (local.set $variance (f64.promote_f32 (f32.load (i32.add (local.get $movingVar) (i32.shl (local.get $c) (i32.const 2))))))))
      (f64.store (i32.add (local.get $mean) (local.get $at)) (local.get $mu))
      (f64.store (i32.add (local.get $invStd) (local.get $at)) (f64.div (f64.const 1) (f64.sqrt (f64.add (local.get $variance) (local.get $eps)))))
      (f64.store (i32.add (local.get $scale) (local.get $at))
        (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $c) (i32.const 2)))))
                 (f64.load (i32.add (local.get $invStd) (local.get $at)))))
      (f64.store (i32.add (local.get $shift) (local.get $at))
        (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $beta) (i32.shl (local.get $c) (i32.const 2)))))
                 (f64.mul (local.get $mu) (f64.load (i32.add (local.get $scale) (local.get $at))))))
      (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $C))))
    (call $column_affine (local.get $y) (local.get $x) (i32.const 0) (local.get $scale) (i32.const 0) (i32.const 0) (local.get $shift) (local.get $n) (local.get $C)))

  ;; m ← m − (m − value)·decay for one float32 moving statistic.
  (func $ease (param $m i32) (param $value f64) (param $decay f64)
    (local $old f64)
    (local.set $old (f64.promote_f32 (f32.load (local.get $m))))
    (f32.store (local.get $m) (f32.demote_f64 (f64.sub (local.get $old) (f64.mul (f64.sub (local.get $old) (local.get $value)) (local.get $decay))))))

  ;; Backward: dβ = Σ dy, dγ = Σ dy·(x − μ)·invStd; with centre = 1/N in training (0 at inference),
  ;; slope = −scale·invStd²·Σ dy·(x − μ)·centre, offset = −scale·Σ dy·centre, and
  ;; dx = dy·scale + (x − μ)·slope + offset (when dx ≠ 0).
  (func (export "batch_norm_backward") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $C i32)
        (param $stats i32) (param $dGamma i32) (param $dBeta i32) (param $centre f64)
    (local $c i32) (local $row i32) (local $mean i32) (local $invStd i32) (local $scale i32) (local $slope i32) (local $offset i32)
    (local $at i32) (local $sumDy f64) (local $sumDyXc f64) (local $s f64) (local $inv f64)
    (local.set $row (i32.shl (local.get $C) (i32.const 3)))
    (local.set $mean (local.get $stats))
    (local.set $invStd (i32.add (local.get $mean) (local.get $row)))
    (local.set $scale (i32.add (local.get $invStd) (local.get $row)))
    (local.set $slope (i32.add (i32.add (local.get $scale) (local.get $row)) (local.get $row)))
    (local.set $offset (i32.add (local.get $slope) (local.get $row)))
    ;; slope ← Σ dy·(x − μ), offset ← Σ dy
    (call $column_moments (local.get $x) (local.get $n) (local.get $C) (local.get $slope) (local.get $mean) (local.get $dy) (local.get $offset))
    (local.set $c (i32.const 0))
    (loop $channels
      (local.set $at (i32.shl (local.get $c) (i32.const 3)))
      (local.set $sumDyXc (f64.load (i32.add (local.get $slope) (local.get $at))))
      (local.set $sumDy (f64.load (i32.add (local.get $offset) (local.get $at))))
      (local.set $s (f64.load (i32.add (local.get $scale) (local.get $at))))
      (local.set $inv (f64.load (i32.add (local.get $invStd) (local.get $at))))
      (f32.store (i32.add (local.get $dBeta) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (local.get $sumDy)))
      (f32.store (i32.add (local.get $dGamma) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (f64.mul (local.get $sumDyXc) (local.get $inv))))
      (f64.store (i32.add (local.get $slope) (local.get $at))
        (f64.mul (f64.mul (f64.mul (f64.mul (f64.neg (local.get $s)) (local.get $inv)) (local.get $inv)) (local.get $sumDyXc)) (local.get $centre)))
      (f64.store (i32.add (local.get $offset) (local.get $at))
        (f64.mul (f64.mul (f64.neg (local.get $s)) (local.get $sumDy)) (local.get $centre)))
      (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $C))))
    (if (local.get $dx)
      (then (call $column_affine (local.get $dx) (local.get $x) (local.get $mean) (local.get $slope)
        (local.get $dy) (local.get $scale) (local.get $offset) (local.get $n) (local.get $C)))))

  ;; ---------------------------------------------------------------------------------------
  ;; Activations. Kinds: 0 linear, 1 sigmoid, 2 tanh, 3 relu. They work on whole vectors,
  ;; n rounded up to a multiple of 4: the arena hands out buffers in 16-byte multiples, so the
  ;; extra lanes are the buffer's own padding.
  ;; ---------------------------------------------------------------------------------------

  ;; dst[i] = e^(scale·x), x = src[i] (|src[i]| when abs ≠ 0), in float32 (Cephes expf):
  ;; e^x = 2ᵏ·e^r with k = round(x·log₂e), |r| ≤ ln2/2, and a degree-6 polynomial (≤ 1 ulp over
  ;; the range used). Adding 1.5·2²³ rounds x·log₂e to an integer in the low bits of the float,
  ;; which also builds 2ᵏ; x is clamped to [−87, 88] so that 2ᵏ stays a normal float.
  (func $exp_into (param $src i32) (param $dst i32) (param $n i32) (param $scale f32) (param $abs i32)
    (local $end i32) (local $x v128) (local $t v128) (local $k v128) (local $z v128) (local $p v128) (local $mask v128)
    (local.set $mask (i32x4.splat (select (i32.const 0x7fffffff) (i32.const -1) (local.get $abs))))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $x (f32x4.mul (v128.and (v128.load (local.get $src)) (local.get $mask)) (f32x4.splat (local.get $scale))))
        (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (f32x4.splat (f32.const -87))) (f32x4.splat (f32.const 88))))
        (local.set $t (f32x4.add (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))
                                 (f32x4.splat (f32.const 12582912))))
        (local.set $k (f32x4.sub (local.get $t) (f32x4.splat (f32.const 12582912))))
        (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (f32x4.splat (f32.const 0.693359375)))))
        (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (f32x4.splat (f32.const -2.12194440e-4)))))
        (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
        (local.set $p (f32x4.splat (f32.const 1.9875691500e-4)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (f32x4.splat (f32.const 1.3981999507e-3))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (f32x4.splat (f32.const 8.3334519073e-3))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (f32x4.splat (f32.const 4.1665795894e-2))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (f32x4.splat (f32.const 1.6666665459e-1))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (f32x4.splat (f32.const 5.0000001201e-1))))
        (local.set $p (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (local.get $x)) (f32x4.splat (f32.const 1))))
        ;; 2ᵏ: the integer k sits in t's low mantissa bits; (k + 127) << 23.
        (v128.store (local.get $dst) (f32x4.mul (local.get $p)
          (i32x4.shl (i32x4.sub (local.get $t) (i32x4.splat (i32.const 0x4B3FFF81))) (i32.const 23))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $each))))

  ;; a[i] = f(a[i]) for i < n, in place; tanh uses `scratch` (n values) for e^{2|z|}.
  (func (export "activate") (param $kind i32) (param $a i32) (param $n i32) (param $scratch i32)
    (local $end i32) (local $z v128) (local $z2 v128) (local $p v128) (local $big v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then
        ;; sigmoid: 1 / (1 + e^{−z})
        (call $exp_into (local.get $a) (local.get $a) (local.get $n) (f32.const -1) (i32.const 0))
        (block $done
          (loop $each
            (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
            (v128.store (local.get $a) (f32x4.div (f32x4.splat (f32.const 1)) (f32x4.add (f32x4.splat (f32.const 1)) (v128.load (local.get $a)))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (br $each)))))
    (if (i32.eq (local.get $kind) (i32.const 2))
      (then
        ;; tanh: an odd polynomial for |z| < 0.625 (Cephes tanhf), else sign(z)·(1 − 2/(e^{2|z|} + 1)).
        (call $exp_into (local.get $a) (local.get $scratch) (local.get $n) (f32.const 2) (i32.const 1))
        (block $done
          (loop $each
            (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
            (local.set $z (v128.load (local.get $a)))
            (local.set $z2 (f32x4.mul (local.get $z) (local.get $z)))
            (local.set $p (f32x4.splat (f32.const -5.70498872745e-3)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (f32x4.splat (f32.const 2.06390887954e-2))))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (f32x4.splat (f32.const -5.37397155531e-2))))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (f32x4.splat (f32.const 1.33314422036e-1))))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (f32x4.splat (f32.const -3.33332819422e-1))))
            (local.set $p (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $z2)) (local.get $z)) (local.get $z)))
            (local.set $big (f32x4.sub (f32x4.splat (f32.const 1))
              (f32x4.div (f32x4.splat (f32.const 2)) (f32x4.add (v128.load (local.get $scratch)) (f32x4.splat (f32.const 1))))))
            (local.set $big (v128.or (local.get $big) (v128.and (local.get $z) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
            (v128.store (local.get $a)
              (v128.bitselect (local.get $p) (local.get $big) (f32x4.lt (f32x4.abs (local.get $z)) (f32x4.splat (f32.const 0.625)))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (local.set $scratch (i32.add (local.get $scratch) (i32.const 16)))
            (br $each)))))
    (if (i32.eq (local.get $kind) (i32.const 3))
      (then
        ;; relu: z < 0 ? 0 : z (keeps −0 and NaN as the reference layer does)
        (block $done
          (loop $each
            (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
            (local.set $z (v128.load (local.get $a)))
            (v128.store (local.get $a) (v128.andnot (local.get $z) (f32x4.lt (local.get $z) (v128.const i32x4 0 0 0 0))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (br $each))))))

  ;; dz[i] = dy[i] · f'(z), f' in terms of y: sigmoid y(1 − y), tanh 1 − y², relu [y > 0], linear 1 (dz may be dy).
  (func (export "activation_backward") (param $kind i32) (param $y i32) (param $dy i32) (param $dz i32) (param $n i32)
    (local $end i32) (local $yv v128) (local $g v128)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (local.set $yv (v128.load (local.get $y)))
        (local.set $g (v128.load (local.get $dy)))
        (if (i32.eq (local.get $kind) (i32.const 1))
          (then (local.set $g (f32x4.mul (f32x4.mul (local.get $g) (local.get $yv)) (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $yv))))))
        (if (i32.eq (local.get $kind) (i32.const 2))
          (then (local.set $g (f32x4.mul (local.get $g) (f32x4.sub (f32x4.splat (f32.const 1)) (f32x4.mul (local.get $yv) (local.get $yv)))))))
        (if (i32.eq (local.get $kind) (i32.const 3))
          (then (local.set $g (v128.and (local.get $g) (f32x4.gt (local.get $yv) (v128.const i32x4 0 0 0 0))))))
        (v128.store (local.get $dz) (local.get $g))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $dz (i32.add (local.get $dz) (i32.const 16)))
        (br $each))))

  ;; ---------------------------------------------------------------------------------------
  ;; Optimizer updates, operation for operation as shared/engine/optimizers.ts computes them
  ;; (so the results are bit-identical): SGD and momentum in float64 with each stored value
  ;; rounded to float32, Adam in float32 throughout. The effective gradient is g + λ·w in
  ;; float64 when λ ≠ 0 (kernels with weight decay), else g.
  ;; ---------------------------------------------------------------------------------------

  (func $grad (param $g i32) (param $w i32) (param $decay f64) (result f64)
    (if (result f64) (f64.eq (local.get $decay) (f64.const 0))
      (then (f64.promote_f32 (f32.load (local.get $g))))
      (else (f64.add (f64.promote_f32 (f32.load (local.get $g)))
                     (f64.mul (local.get $decay) (f64.promote_f32 (f32.load (local.get $w))))))))

  ;; w ← w − lr·g, two weights at a time in float64 lanes (then the odd one).
  (func (export "sgd") (param $w i32) (param $g i32) (param $n i32) (param $lr f64) (param $decay f64)
    (local $end i32) (local $wv v128) (local $gv v128)
    (local.set $end (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $wv (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $w))))
        (local.set $gv (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))))
        (if (f64.ne (local.get $decay) (f64.const 0))
          (then (local.set $gv (f64x2.add (local.get $gv) (f64x2.mul (f64x2.splat (local.get $decay)) (local.get $wv))))))
        (v128.store64_lane 0 (local.get $w) (f32x4.demote_f64x2_zero
          (f64x2.sub (local.get $wv) (f64x2.mul (f64x2.splat (local.get $lr)) (local.get $gv)))))
        (local.set $w (i32.add (local.get $w) (i32.const 8)))
        (local.set $g (i32.add (local.get $g) (i32.const 8)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (f32.store (local.get $w) (f32.demote_f64
        (f64.sub (f64.promote_f32 (f32.load (local.get $w)))
                 (f64.mul (local.get $lr) (call $grad (local.get $g) (local.get $w) (local.get $decay)))))))))

  ;; a ← μ·a + g;  w ← w − lr·a  (Nesterov: w ← w − lr·(g + μ·a)).
  (func (export "momentum") (param $w i32) (param $g i32) (param $acc i32) (param $n i32)
        (param $lr f64) (param $mu f64) (param $nesterov i32) (param $decay f64)
    (local $end i32) (local $gv f64) (local $av f64)
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $gv (call $grad (local.get $g) (local.get $w) (local.get $decay)))
        (f32.store (local.get $acc) (f32.demote_f64
          (f64.add (f64.mul (local.get $mu) (f64.promote_f32 (f32.load (local.get $acc)))) (local.get $gv))))
        (local.set $av (f64.promote_f32 (f32.load (local.get $acc))))
        (f32.store (local.get $w) (f32.demote_f64
          (f64.sub (f64.promote_f32 (f32.load (local.get $w)))
                   (f64.mul (local.get $lr)
                     (select (f64.add (local.get $gv) (f64.mul (local.get $mu) (local.get $av))) (local.get $av) (local.get $nesterov))))))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 4)))
        (br $each))))

  ;; Adam in float32, as tfjs: m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
  ;; w ← w + (−lr)·((m / c1) / (√(v / c2) + ε)), with c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ.
  ;; Four weights at a time (the same float32 operations) when there is no weight decay.
  (func (export "adam") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
        (param $minusLr f32) (param $b1 f32) (param $b2 f32) (param $oneMinusB1 f32) (param $oneMinusB2 f32)
        (param $c1 f32) (param $c2 f32) (param $eps f32) (param $decay f64)
    (local $end i32) (local $gv f32) (local $mv f32) (local $vv f32) (local $g4 v128) (local $m4 v128) (local $v4 v128)
    (if (f64.eq (local.get $decay) (f64.const 0))
      (then
        (local.set $end (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
        (block $done
          (loop $quads
            (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
            (local.set $g4 (v128.load (local.get $g)))
            (local.set $m4 (f32x4.add (f32x4.mul (v128.load (local.get $m)) (f32x4.splat (local.get $b1)))
                                      (f32x4.mul (local.get $g4) (f32x4.splat (local.get $oneMinusB1)))))
            (local.set $v4 (f32x4.add (f32x4.mul (v128.load (local.get $v)) (f32x4.splat (local.get $b2)))
                                      (f32x4.mul (f32x4.mul (local.get $g4) (local.get $g4)) (f32x4.splat (local.get $oneMinusB2)))))
            (v128.store (local.get $m) (local.get $m4))
            (v128.store (local.get $v) (local.get $v4))
            (v128.store (local.get $w)
              (f32x4.add
                (f32x4.mul (f32x4.div (f32x4.div (local.get $m4) (f32x4.splat (local.get $c1)))
                                      (f32x4.add (f32x4.sqrt (f32x4.div (local.get $v4) (f32x4.splat (local.get $c2)))) (f32x4.splat (local.get $eps))))
                           (f32x4.splat (local.get $minusLr)))
                (v128.load (local.get $w))))
            (local.set $w (i32.add (local.get $w) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (local.set $v (i32.add (local.get $v) (i32.const 16)))
            (br $quads)))
        (local.set $n (i32.and (local.get $n) (i32.const 3)))))
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $gv (f32.demote_f64 (call $grad (local.get $g) (local.get $w) (local.get $decay))))
        (local.set $mv (f32.add (f32.mul (f32.load (local.get $m)) (local.get $b1)) (f32.mul (local.get $gv) (local.get $oneMinusB1))))
        (local.set $vv (f32.add (f32.mul (f32.load (local.get $v)) (local.get $b2))
                                (f32.mul (f32.mul (local.get $gv) (local.get $gv)) (local.get $oneMinusB2))))
        (f32.store (local.get $m) (local.get $mv))
        (f32.store (local.get $v) (local.get $vv))
        (f32.store (local.get $w)
          (f32.add
            (f32.mul (f32.div (f32.div (local.get $mv) (local.get $c1))
                              (f32.add (f32.sqrt (f32.div (local.get $vv) (local.get $c2))) (local.get $eps)))
                     (local.get $minusLr))
            (f32.load (local.get $w))))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (br $each)))))
