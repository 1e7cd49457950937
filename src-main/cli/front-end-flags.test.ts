import { describe, expect, it } from 'vitest';
import { DEFAULT_PCEN } from '../../shared/data/front-end';
import { frontEndFromFlags } from './front-end-flags';

describe('--front-end and the --pcen-* flags', () => {
  it("name the front end, PCEN with its defaults under the flags given; absent leaves the preset's", () => {
    expect(frontEndFromFlags({})).toBeUndefined();
    expect(frontEndFromFlags({ 'front-end': 'standardize' })).toEqual({ normalize: 'none' });
    expect(frontEndFromFlags({ 'front-end': 'utterance-mean' })).toEqual({ normalize: 'utteranceMean' });
    expect(frontEndFromFlags({ 'front-end': 'pcen' })).toEqual({ normalize: 'pcen', pcen: DEFAULT_PCEN });
    expect(frontEndFromFlags({ 'front-end': 'pcen', 'pcen-alpha': '0.8', 'pcen-smoothing': '0.05' })).toEqual({
      normalize: 'pcen',
      pcen: { ...DEFAULT_PCEN, alpha: 0.8, smoothing: 0.05 },
    });
  });

  it('reject what cannot be meant, naming the flag and what it expects', () => {
    expect(() => frontEndFromFlags({ 'front-end': 'mfcc' })).toThrow(
      "--front-end must be one of standardize, pcen, utterance-mean, got 'mfcc'",
    );
    expect(() => frontEndFromFlags({ 'pcen-root': '0.3' })).toThrow('--pcen-root needs --front-end pcen');
    expect(() => frontEndFromFlags({ 'front-end': 'utterance-mean', 'pcen-delta': '1' })).toThrow(
      "--pcen-delta needs --front-end pcen, got 'utterance-mean'",
    );
    expect(() => frontEndFromFlags({ 'front-end': 'pcen', 'pcen-epsilon': 'x' })).toThrow(
      "--pcen-epsilon expects a number, got 'x'",
    );
    expect(() => frontEndFromFlags({ 'front-end': 'pcen', 'pcen-alpha': '2' })).toThrow(/^--pcen-alpha: .*<=1/);
  });
});
