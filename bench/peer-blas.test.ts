import { describe, expect, it } from 'vitest';
import { classifyPeerBlas, isFairPeer } from './peer-blas';

describe('classifyPeerBlas', () => {
  it("names Debian's OpenBLAS and reference BLAS by the libraries torch has mapped", () => {
    const openblas = [
      '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
      '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
    ];
    expect(classifyPeerBlas(openblas, 'generic')).toBe('openblas');
    const reference = [
      '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3',
      '/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3',
    ];
    expect(classifyPeerBlas(reference, 'generic')).toBe('reference');
  });

  it("falls back to the BLAS torch was built with (pip's torch links MKL in statically)", () => {
    expect(classifyPeerBlas([], 'mkl')).toBe('mkl');
    expect(classifyPeerBlas([], 'generic')).toBe('unknown');
  });

  it('refuses only the reference BLAS as a peer', () => {
    expect(isFairPeer('reference')).toBe(false);
    expect(isFairPeer('openblas')).toBe(true);
    expect(isFairPeer('unknown')).toBe(true);
  });
});
