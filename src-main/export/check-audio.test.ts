import { describe, expect, it } from 'vitest';
import { DEFAULT_FRONT_END } from '../../shared/audio/logmel';
import { checkAudio } from './import-model';

describe("a model file's audio front end", () => {
  it('is null when absent, complete when valid, and refused with the file and field otherwise', () => {
    expect(checkAudio(undefined, 'm/checkpoint.json')).toBeNull();
    expect(checkAudio(null, 'm/checkpoint.json')).toBeNull();
    expect(checkAudio({ ...DEFAULT_FRONT_END, stray: 1 }, 'm/checkpoint.json')).toEqual(DEFAULT_FRONT_END);
    expect(() => checkAudio({ kind: 'mfcc' }, 'm/checkpoint.json')).toThrow(
      /^m\/checkpoint\.json, field audio: expected null or a log-mel front end/,
    );
    expect(() => checkAudio([1, 2], 'm/metadata.json')).toThrow(/^m\/metadata\.json, field audio: expected null/);
    expect(() => checkAudio({ ...DEFAULT_FRONT_END, hopMs: 'ten' }, 'm/checkpoint.json')).toThrow(
      /^m\/checkpoint\.json: field audio\.hopMs: expected a hop of 1…1000 ms, found ten/,
    );
  });
});
