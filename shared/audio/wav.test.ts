import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from './wav';

const tone = (n: number, rate: number, hz = 440, amp = 0.5) =>
  Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

describe('decodeWav', () => {
  it.each([
    ['pcm', 8, 1 / 128],
    ['pcm', 16, 1 / 32768],
    ['pcm', 24, 1 / 8388608],
    ['pcm', 32, 1 / 2147483648],
    ['float', 32, 1e-7],
    ['float', 64, 0],
  ] as const)('reads %s %i-bit samples within their quantisation step', (format, bits, step) => {
    const x = tone(480, 16000);
    const audio = decodeWav(encodeWav(x, 16000, { bits, format }), 'a.wav');
    expect(audio).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: bits, format });
    expect(audio.samples.length).toBe(480);
    for (let i = 0; i < x.length; i++) expect(Math.abs(audio.samples[i] - x[i])).toBeLessThanOrEqual(step / 2 + 1e-7);
  });

  it('mixes stereo to mono by averaging the channels', () => {
    const interleaved = [0.5, -0.25, 0.25, 0.25, -1, 0];
    const audio = decodeWav(encodeWav(interleaved, 22050, { channels: 2, format: 'float', bits: 32 }), 's.wav');
    expect(audio.channels).toBe(2);
    expect([...audio.samples]).toEqual([0.125, 0.25, -0.5]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE and skips unknown chunks (odd-sized ones padded)', () => {
    const plain = encodeWav([0.5, -0.5], 16000, { bits: 16 });
    const out = new Uint8Array(12 + 8 + 3 + 1 + 8 + 40 + 8 + 4);
    const v = new DataView(out.buffer);
    out.set(plain.subarray(0, 12));
    out.set(
      [...'LIST'].map((c) => c.charCodeAt(0)),
      12,
    );
    v.setUint32(16, 3, true);
    let at = 24;
    out.set(
      [...'fmt '].map((c) => c.charCodeAt(0)),
      at,
    );
    v.setUint32(at + 4, 40, true);
    out.set(plain.subarray(20, 36), at + 8);
    v.setUint16(at + 8, 0xfffe, true);
    v.setUint16(at + 8 + 24, 1, true); // sub-format: PCM
    at += 48;
    out.set(plain.subarray(36, 48), at);
    expect([...decodeWav(out, 'x.wav').samples]).toEqual([0.5, -0.5]);
  });

  const bad = (bytes: Uint8Array, pattern: RegExp) => expect(() => decodeWav(bytes, 'clips/bad.wav')).toThrow(pattern);

  it('names the file and what was wrong for every kind of bad input', () => {
    const good = encodeWav(tone(1600, 16000), 16000);
    const text = new TextEncoder().encode('hello, this is not audio\n');
    bad(text, /^clips\/bad\.wav: expected a WAV file \(RIFF\/WAVE\), found text starting 'hello, this is n'/);
    bad(new Uint8Array(0), /clips\/bad\.wav: .*found an empty file/);
    bad(good.subarray(0, 8), /bad\.wav: expected a 12-byte RIFF\/WAVE header, found a file of 8 bytes \(truncated/);
    bad(good.subarray(0, 30), /bad\.wav: expected the 'fmt ' chunk at byte 12 to fit in the file, but it declares 16/);
    bad(good.subarray(0, 30), /only 10 follow \(truncated, or a wrong chunk size\)$/);
    bad(good.subarray(0, 100), /clips\/bad\.wav: expected the 'data' chunk at byte 36 to fit in the file, but it/);
    bad(good.subarray(0, 100), /declares 3200 bytes/);
    bad(good.subarray(0, 100), /bytes and only 56 follow/);
    bad(good.subarray(0, 36), /clips\/bad\.wav: expected a data chunk, found none/);
    bad(encodeWav([], 16000), /clips\/bad\.wav: expected audio samples, found a data chunk of 0 samples/);
    const nan = encodeWav([0, NaN, 0], 16000, { format: 'float', bits: 32 });
    bad(nan, /clips\/bad\.wav: expected finite samples, found NaN at sample 1/);
    bad(encodeWav([0, Infinity], 16000, { format: 'float', bits: 64 }), /found Infinity at sample 1/);
    const long = encodeWav(new Float32Array(61 * 8000), 8000, { bits: 8 });
    bad(long, /clips\/bad\.wav: expected a clip of at most 60 s, found 61\.0 s/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(40, 0xfffffff0, true);
    bad(huge, /declares 4294967280 bytes/);
    const odd = good.slice(0, 44 + 3);
    new DataView(odd.buffer).setUint32(40, 3, true);
    bad(odd, /expected a data chunk of whole frames \(2 bytes each\), found 3 bytes/);
    const adpcm = good.slice();
    new DataView(adpcm.buffer).setUint16(20, 2, true);
    bad(adpcm, /expected PCM 8\/16\/24\/32-bit or float 32\/64-bit samples, found format 2 with 16 bits/);
    const flac = new Uint8Array([...'fLaC'].map((c) => c.charCodeAt(0)).concat([0, 0, 0, 34, 1, 2]));
    bad(flac, /found a FLAC file \(convert it to WAV/);
    const m4a = new Uint8Array([0, 0, 0, 32, ...[...'ftypM4A '].map((c) => c.charCodeAt(0))]);
    bad(m4a, /found a MP4\/M4A file \(convert/);
    bad(new Uint8Array([0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0, 1, 2, 3, 4]), /found a MP3 file \(convert it to WAV/);
    bad(new Uint8Array([...'ID3'].map((c) => c.charCodeAt(0)).concat([4, 0, 0, 0, 0, 0, 0, 0, 0])), /found a MP3 file/);
  });
});
