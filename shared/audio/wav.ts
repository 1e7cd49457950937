/**
 * WAV (RIFF/WAVE) decoding to mono float samples in [-1, 1]: PCM 8 (unsigned), 16, 24 and 32-bit
 * (signed, little-endian), IEEE float 32 and 64-bit, plain or WAVE_FORMAT_EXTENSIBLE, any number of
 * channels averaged to one. Everything a file could get wrong is a LockstepError naming it.
 */
import { LockstepError } from '../errors';

export interface DecodedAudio {
  /** Mono samples, channels averaged; PCM scaled by 1/2^(bits-1), floats as stored. */
  samples: Float32Array;
  sampleRate: number;
  /** Channels in the file (mixed to one in `samples`). */
  channels: number;
  bitsPerSample: number;
  format: 'pcm' | 'float';
}

/** A clip longer than this is refused: a dataset of clips holding a one-hour recording is a mistake. */
export const DEFAULT_MAX_SECONDS = 60;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function fourCC(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

/** What a non-WAV file starts with, for the error: printable text quoted, else the first bytes in hex. */
function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = bytes.subarray(0, 16);
  const printable = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable)
    return `text starting '${String.fromCharCode(...head)
      .replace(/\s+/g, ' ')
      .trim()}'`;
  const magic: Record<string, string> = { fLaC: 'FLAC', OggS: 'Ogg', FORM: 'AIFF', ID3: 'MP3' };
  const tag = String.fromCharCode(...head.subarray(0, 4));
  const container =
    magic[tag] ??
    magic[tag.slice(0, 3)] ??
    (String.fromCharCode(...head.subarray(4, 8)) === 'ftyp' ? 'MP4/M4A' : undefined) ??
    (head[0] === 0xff && (head[1] & 0xe0) === 0xe0 ? 'MP3' : undefined);
  if (container) return `a ${container} file (convert it to WAV, e.g. ffmpeg -i in -c:a pcm_s16le out.wav)`;
  return `bytes ${[...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

interface Format {
  code: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function readFormat(view: DataView, at: number, size: number, file: string): Format {
  if (size < 16) throw new LockstepError(`expected a fmt chunk of at least 16 bytes, found ${size}`, { file });
  let code = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (code === FORMAT_EXTENSIBLE) {
    if (size < 40) throw new LockstepError(`expected an extensible fmt chunk of 40 bytes, found ${size}`, { file });
    code = view.getUint16(at + 24, true); // the sub-format GUID's first two bytes
  }
  const fmt = { code, channels, sampleRate, blockAlign, bits };
  const ok =
    (code === FORMAT_PCM && [8, 16, 24, 32].includes(bits)) || (code === FORMAT_FLOAT && (bits === 32 || bits === 64));
  if (!ok) {
    throw new LockstepError(
      `expected PCM 8/16/24/32-bit or float 32/64-bit samples, found format ${code} with ${bits} bits ` +
        '(convert it to 16-bit PCM WAV)',
      { file },
    );
  }
  if (channels < 1 || channels > 32) throw new LockstepError(`expected 1 to 32 channels, found ${channels}`, { file });
  if (blockAlign !== channels * (bits / 8)) {
    const expected = channels * (bits / 8);
    throw new LockstepError(`expected a block size of ${expected} bytes (channels × bits/8), found ${blockAlign}`, {
      file,
    });
  }
  if (sampleRate < 1) throw new LockstepError('expected a sample rate above 0, found 0', { file });
  return fmt;
}

/** One sample's reader for the format, as a value in [-1, 1] (floats as stored). */
function sampleReader(view: DataView, fmt: Format): (at: number) => number {
  if (fmt.code === FORMAT_FLOAT) {
    return fmt.bits === 32 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  }
  switch (fmt.bits) {
    case 8:
      return (at) => (view.getUint8(at) - 128) / 128;
    case 16:
      return (at) => view.getInt16(at, true) / 32768;
    case 24:
      return (at) => (view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608;
    default:
      return (at) => view.getInt32(at, true) / 2147483648;
  }
}

/**
 * Decodes a WAV file's bytes. `file` names it in every error; `maxSeconds` bounds its length
 * (default DEFAULT_MAX_SECONDS).
 */
export function decodeWav(bytes: Uint8Array, file: string, maxSeconds = DEFAULT_MAX_SECONDS): DecodedAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || fourCC(view, 0) !== 'RIFF' || fourCC(view, 8) !== 'WAVE') {
    if (bytes.length >= 4 && bytes.length < 12 && fourCC(view, 0) === 'RIFF') {
      const found = `found a file of ${bytes.length} bytes (truncated)`;
      throw new LockstepError(`expected a 12-byte RIFF/WAVE header, ${found}`, { file });
    }
    throw new LockstepError(`expected a WAV file (RIFF/WAVE), found ${describeStart(bytes)}`, { file });
  }
  let fmt: Format | undefined;
  let data: { at: number; size: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length && data === undefined) {
    const id = fourCC(view, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (size > bytes.length - body) {
      throw new LockstepError(
        `expected the '${id}' chunk at byte ${at} to fit in the file, but it declares ${size} bytes and only ` +
          `${bytes.length - body} follow (truncated, or a wrong chunk size)`,
        { file },
      );
    }
    if (id === 'fmt ') fmt = readFormat(view, body, size, file);
    else if (id === 'data') data = { at: body, size };
    at = body + size + (size & 1); // chunks are padded to an even length
  }
  if (fmt === undefined) {
    throw new LockstepError('expected a fmt chunk before the data, found none (truncated header?)', { file });
  }
  if (data === undefined) throw new LockstepError('expected a data chunk, found none (truncated?)', { file });
  if (data.size % fmt.blockAlign !== 0) {
    const expected = `a data chunk of whole frames (${fmt.blockAlign} bytes each)`;
    throw new LockstepError(`expected ${expected}, found ${data.size} bytes`, { file });
  }
  const n = data.size / fmt.blockAlign;
  if (n === 0) throw new LockstepError('expected audio samples, found a data chunk of 0 samples', { file });
  const seconds = n / fmt.sampleRate;
  if (seconds > maxSeconds) {
    const found = `${seconds.toFixed(1)} s (${n} samples at ${fmt.sampleRate} Hz)`;
    throw new LockstepError(`expected a clip of at most ${maxSeconds} s, found ${found}`, { file });
  }
  const read = sampleReader(view, fmt);
  const step = fmt.bits / 8;
  const samples = new Float32Array(n);
  for (let i = 0, p = data.at; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++, p += step) sum += read(p);
    const v = sum / fmt.channels;
    if (!Number.isFinite(v)) {
      const when = `${(i / fmt.sampleRate).toFixed(3)} s`;
      throw new LockstepError(`expected finite samples, found ${v} at sample ${i} (${when})`, { file });
    }
    samples[i] = v;
  }
  const format = fmt.code === FORMAT_FLOAT ? 'float' : 'pcm';
  return { samples, sampleRate: fmt.sampleRate, channels: fmt.channels, bitsPerSample: fmt.bits, format };
}

/**
 * Encodes mono or interleaved samples as a WAV file (the tests' and `features`' fixtures):
 * 'pcm' at 8/16/24/32 bits (clipped to [-1, 1)), or 'float' at 32/64 bits.
 */
export function encodeWav(
  interleaved: ArrayLike<number>,
  sampleRate: number,
  options: { channels?: number; bits?: 8 | 16 | 24 | 32 | 64; format?: 'pcm' | 'float' } = {},
): Uint8Array {
  const channels = options.channels ?? 1;
  const bits = options.bits ?? 16;
  const code = (options.format ?? 'pcm') === 'float' ? FORMAT_FLOAT : FORMAT_PCM;
  const step = bits / 8;
  const dataSize = interleaved.length * step;
  const out = new Uint8Array(44 + dataSize + (dataSize & 1));
  const view = new DataView(out.buffer);
  const tag = (at: number, s: string) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  tag(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, code, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * step, true);
  view.setUint16(32, channels * step, true);
  view.setUint16(34, bits, true);
  tag(36, 'data');
  view.setUint32(40, dataSize, true);
  for (let i = 0, p = 44; i < interleaved.length; i++, p += step) {
    const v = interleaved[i];
    if (code === FORMAT_FLOAT) {
      if (bits === 32) view.setFloat32(p, v, true);
      else view.setFloat64(p, v, true);
      continue;
    }
    const full = 2 ** (bits - 1);
    const q = Math.max(-full, Math.min(full - 1, Math.round(v * full)));
    if (bits === 8) view.setUint8(p, q + 128);
    else if (bits === 16) view.setInt16(p, q, true);
    else if (bits === 24) {
      view.setUint8(p, q & 0xff);
      view.setUint8(p + 1, (q >> 8) & 0xff);
      view.setInt8(p + 2, q >> 16);
    } else view.setInt32(p, q, true);
  }
  return out;
}
