/**
 * The feature parser's fast path, feature-rows.wat (assembled into feature-rows-wasm.ts by
 * `npm run build:wasm`), compiled once per process: the loader's worker thread gets the
 * compiled module (eeset-worker.ts).
 */
import { FEATURE_ROWS_WASM_BASE64 } from './feature-rows-wasm';

/** The exports of feature-rows.wat (see its comments). */
export interface FeatureRowsExports {
  memory: WebAssembly.Memory;
  parse_rows(p: number, end: number, out: number, limit: number, store: number): number;
  stop: WebAssembly.Global;
}

let compiled: WebAssembly.Module | null = null;

export function featureRowsModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(FEATURE_ROWS_WASM_BASE64, 'base64'));
  return compiled;
}
