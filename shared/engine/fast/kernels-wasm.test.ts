import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, WAT_PATH, generatedKernelsModule } from '../../../scripts/build-wasm';

describe('kernels-wasm.ts', () => {
  it('is what `npm run build:wasm` makes of kernels.wat (rerun it after editing the .wat)', async () => {
    const expected = await generatedKernelsModule(fs.readFileSync(WAT_PATH, 'utf8'));
    expect(fs.readFileSync(GENERATED_PATH, 'utf8')).toBe(expected);
  });

  it('changes when the .wat changes', async () => {
    const wat = fs.readFileSync(WAT_PATH, 'utf8');
    const edited = wat.replace('(f32.const 0.625)', '(f32.const 0.5)');
    expect(edited).not.toBe(wat);
    expect(await generatedKernelsModule(edited)).not.toBe(await generatedKernelsModule(wat));
  });
});
