import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEATURE_ROWS, generatedWasmModule } from '../../scripts/build-wasm';

describe('feature-rows-wasm.ts', () => {
  it('is what `npm run build:wasm` makes of feature-rows.wat (rerun it after editing the .wat)', async () => {
    const expected = await generatedWasmModule(FEATURE_ROWS, fs.readFileSync(FEATURE_ROWS.watPath, 'utf8'));
    expect(fs.readFileSync(FEATURE_ROWS.generatedPath, 'utf8')).toBe(expected);
  });

  it('changes when the .wat changes', async () => {
    const wat = fs.readFileSync(FEATURE_ROWS.watPath, 'utf8');
    const edited = wat.replace('(i32.const 160)', '(i32.const 80)');
    expect(edited).not.toBe(wat);
    expect(await generatedWasmModule(FEATURE_ROWS, edited)).not.toBe(await generatedWasmModule(FEATURE_ROWS, wat));
  });
});
