/** Small WAV datasets for the audio tests: each class a tone of its own, written into a folder. */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { encodeWav } from '../../shared/audio/wav';

/** `seconds` of a tone whose pitch tells the class (`k`), at 16 kHz, 16-bit. */
export function toneClip(k: number, seconds: number, rate = 16000): Uint8Array {
  const hz = 300 + 400 * k;
  return encodeWav(
    Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.4 * Math.sin((2 * Math.PI * hz * i) / rate)),
    rate,
  );
}

/** Writes `files` (relative path → bytes or text) under `root`. */
export function writeTree(root: string, files: Record<string, Uint8Array | string>): void {
  for (const [rel, body] of Object.entries(files)) {
    const abs = nodePath.join(root, ...rel.split('/'));
    fs.mkdirSync(nodePath.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, body);
  }
}
