;; The ee-set feature parser's fast path: rows written exactly as printf's "%16.7e" writes them.
;; Assembled by `npm run build:wasm` into feature-rows-wasm.ts (feature-rows-wasm.test.ts checks
;; it is up to date; feature-rows.test.ts checks it against the general parser).
;;
;; A row in that format is 16 fields of 16 bytes, "  [ -]d.ddddddd[eE][+-]0d", then "\n" or
;; "\r\n". parse_rows converts such rows until the first line that is not one (or past `end`),
;; and leaves that line to the general parser in feature-parser.ts, which is the reference: it
;; handles every other syntax, and every error. Only one-digit exponents are taken here (every
;; value of the ee-set has one): the integer of the 8 mantissa digits times 10^(±d − 7), an
;; exact power of ten, is one correctly rounded double, as Number() gives, then rounded to
;; float32.
;;
;; Memory: the scale table (bytes 0–319), then the caller's (see feature-parser.ts).
(module
  (memory (export "memory") 1)

  ;; The scale table: for each printed exponent "+0d" (at byte 16·d) and "-0d" (at 160 + 16·d),
  ;; a multiplier M and a divisor D (8 bytes further), with value = mantissa·M/D: one of them is
  ;; 1, the other the exact power of ten 10^|±d − 7|, so only one step rounds.
  (func $pow10 (param $k i32) (result f64)
    (local $p f64)
    (local.set $p (f64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $p (f64.mul (local.get $p) (f64.const 10)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $p))
  (func $scale_table
    (local $d i32) (local $at i32)
    (loop $next
      (local.set $at (i32.shl (local.get $d) (i32.const 4)))
      ;; "+0d": d < 7 divides by 10^(7 − d), d ≥ 7 multiplies by 10^(d − 7)
      (if (i32.lt_u (local.get $d) (i32.const 7))
        (then (f64.store (local.get $at) (f64.const 1))
              (f64.store offset=8 (local.get $at) (call $pow10 (i32.sub (i32.const 7) (local.get $d)))))
        (else (f64.store (local.get $at) (call $pow10 (i32.sub (local.get $d) (i32.const 7))))
              (f64.store offset=8 (local.get $at) (f64.const 1))))
      ;; "-0d": divides by 10^(d + 7)
      (f64.store offset=160 (local.get $at) (f64.const 1))
      (f64.store offset=168 (local.get $at) (call $pow10 (i32.add (local.get $d) (i32.const 7))))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $d) (i32.const 10)))))
  (start $scale_table)

  ;; Where parse_rows stopped: the start of the first line it did not convert.
  (global $stop (export "stop") (mut i32) (i32.const 0))

  ;; Converts at most `limit` rows from p (buffer[end - 1] is '\n') while they are in the fixed
  ;; format: with `store`, row r's 16 float32 go to out + 64·r; without, the rows are only
  ;; checked (the caller keeps just the first rows of a file, and checks the rest).
  ;; Returns the number of rows converted; `stop` is where the next line starts.
  (func (export "parse_rows") (param $p i32) (param $end i32) (param $out i32) (param $limit i32) (param $store i32)
                              (result i32)
    (local $rows i32) (local $field i32) (local $dst i32) (local $next i32) (local $eol i32)
    (local $v v128) (local $ok v128) (local $a v128) (local $b v128) (local $minusA v128) (local $minusB v128)
    (local $w v128) (local $x v128) (local $sa i32) (local $sb i32)
    (local.set $dst (local.get $out))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $rows) (local.get $limit)))
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 257)) (local.get $end)))
        ;; Every field: digits where the format has digits; elsewhere "  ", ' ' or '-', '.',
        ;; 'e' or 'E', '+' or '-', '0'.
        (local.set $ok (v128.const i8x16 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1))
        (local.set $field (i32.const 0))
        (loop $check
          (local.set $v (v128.load (i32.add (local.get $p) (local.get $field))))
          (local.set $ok (v128.and (local.get $ok)
            (v128.bitselect
              (i8x16.lt_u (i8x16.sub (local.get $v) (i8x16.splat (i32.const 48))) (i8x16.splat (i32.const 10)))
              (v128.or
                (i8x16.eq (v128.or (local.get $v) (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0x20 0 0 0))
                          (v128.const i8x16 0x20 0x20 0x20 0 0x2e 0 0 0 0 0 0 0 0x65 0x2b 0x30 0))
                (i8x16.eq (v128.or (local.get $v) (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0x20 0 0 0))
                          (v128.const i8x16 0x20 0x20 0x2d 0 0x2e 0 0 0 0 0 0 0 0x65 0x2d 0x30 0)))
              (v128.const i8x16 0 0 0 -1 0 -1 -1 -1 -1 -1 -1 -1 0 0 0 -1))))
          (local.set $field (i32.add (local.get $field) (i32.const 16)))
          (br_if $check (i32.lt_u (local.get $field) (i32.const 256))))
        (br_if $done (i32.eqz (i8x16.all_true (local.get $ok))))
        ;; The line ends right after its 16th field: "\n", or "\r\n" (the buffer ends with '\n').
        (local.set $eol (i32.load8_u offset=256 (local.get $p)))
        (if (i32.eq (local.get $eol) (i32.const 10))
          (then (local.set $next (i32.add (local.get $p) (i32.const 257))))
          (else
            (br_if $done (i32.ne (local.get $eol) (i32.const 13)))
            (br_if $done (i32.ne (i32.load8_u offset=257 (local.get $p)) (i32.const 10)))
            (local.set $next (i32.add (local.get $p) (i32.const 258)))))
        (if (local.get $store)
          (then
            ;; Two fields at a time (a, b), as the two lanes of f64x2.
            (local.set $field (i32.const 0))
            (loop $pairs
              (local.set $a (i8x16.sub (v128.load (i32.add (local.get $p) (local.get $field))) (i8x16.splat (i32.const 48))))
              (local.set $b (i8x16.sub (v128.load offset=16 (i32.add (local.get $p) (local.get $field))) (i8x16.splat (i32.const 48))))
              (local.set $minusA (i8x16.eq (local.get $a) (i8x16.splat (i32.const -3)))) ;; '-' − '0'
              (local.set $minusB (i8x16.eq (local.get $b) (i8x16.splat (i32.const -3))))
              ;; Both mantissas' 8 digits → 4 pairs each → 2 quadruples each → mantissa a, b.
              (local.set $w (i8x16.shuffle 3 5 6 7 8 9 10 11 19 21 22 23 24 25 26 27 (local.get $a) (local.get $b)))
              (local.set $w (i16x8.narrow_i32x4_u
                (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $w)) (v128.const i16x8 10 1 10 1 10 1 10 1))
                (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $w)) (v128.const i16x8 10 1 10 1 10 1 10 1))))
              (local.set $w (i32x4.dot_i16x8_s (local.get $w) (v128.const i16x8 100 1 100 1 100 1 100 1)))
              (local.set $w (i32x4.dot_i16x8_s (i16x8.narrow_i32x4_u (local.get $w) (local.get $w))
                                               (v128.const i16x8 10000 1 10000 1 10000 1 10000 1)))
              ;; Their scale table entries (a scalar extract per field beats a vector shuffle here).
              (local.set $sa (i32.add (i32.shl (i8x16.extract_lane_u 15 (local.get $a)) (i32.const 4))
                                      (i32.and (i8x16.extract_lane_u 13 (local.get $minusA)) (i32.const 160))))
              (local.set $sb (i32.add (i32.shl (i8x16.extract_lane_u 15 (local.get $b)) (i32.const 4))
                                      (i32.and (i8x16.extract_lane_u 13 (local.get $minusB)) (i32.const 160))))
              (local.set $x (f64x2.div
                (f64x2.mul
                  (f64x2.convert_low_i32x4_u (local.get $w))
                  (v128.load64_lane 1 (local.get $sb) (v128.load64_zero (local.get $sa))))
                (v128.load64_lane offset=8 1 (local.get $sb) (v128.load64_zero offset=8 (local.get $sa)))))
              ;; The sign: '-' in byte 2 of a field sets its double's sign bit (byte 3 is a digit).
              (local.set $x (v128.xor (local.get $x) (v128.and
                (i8x16.shuffle 3 3 3 3 3 3 3 2 19 19 19 19 19 19 19 18 (local.get $minusA) (local.get $minusB))
                (v128.const i64x2 0x8000000000000000 0x8000000000000000))))
              (v128.store64_lane 0 (local.get $dst) (f32x4.demote_f64x2_zero (local.get $x)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
              (local.set $field (i32.add (local.get $field) (i32.const 32)))
              (br_if $pairs (i32.lt_u (local.get $field) (i32.const 256))))))
        (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
        (local.set $p (local.get $next))
        (br $row)))
    (global.set $stop (local.get $p))
    (local.get $rows))
)
