/**
 * Which BLAS the PyTorch peer runs, from what it reports (bench/torch_peer.py `blas_in_use`). Debian's
 * python3-torch calls whatever libblas.so.3 is installed: with only the reference BLAS (libblas3) it is up
 * to 9x slower on the FNNs, no fair peer; libopenblas0-pthread makes it OpenBLAS.
 */
export type PeerBlas = 'openblas' | 'mkl' | 'blis' | 'atlas' | 'reference' | 'unknown';

export const FAIR_BLAS_HINT = 'install libopenblas0-pthread (apt-get install libopenblas0-pthread) for a fair peer';

export function classifyPeerBlas(libraries: readonly string[], blasInfo: string | null): PeerBlas {
  const named = (pattern: RegExp): boolean => libraries.some((path) => pattern.test(path));
  if (named(/openblas/i)) return 'openblas';
  if (named(/mkl/i) || blasInfo === 'mkl') return 'mkl';
  if (named(/blis/i)) return 'blis';
  if (named(/atlas/i)) return 'atlas';
  // Debian's reference BLAS: /usr/lib/<triplet>/blas/libblas.so.3 (package libblas3).
  if (named(/\/blas\/libblas\.so/)) return 'reference';
  return blasInfo === 'open' || blasInfo === 'openblas' ? 'openblas' : 'unknown';
}

/** A peer whose ratios mean something: any optimised BLAS, or one the bench cannot name. */
export function isFairPeer(blas: PeerBlas): boolean {
  return blas !== 'reference';
}
