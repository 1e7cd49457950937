import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { APP_PATH, SCREENS } from './env';

/** Opens the lab and waits until it has loaded what it needs; page errors fail the test. */
export async function openLab(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { __errors?: string[] }).__errors = errors;
  await page.goto(APP_PATH);
  await expect(page.getByTestId('app')).toHaveAttribute('data-ready', 'true');
}

/** How many distinct colours a canvas shows (a painted heatmap shows many, a blank one one). */
export function canvasColours(canvas: Locator): Promise<number> {
  return canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set<string>();
    for (let i = 0; i < d.length; i += 4) colours.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return colours.size;
  });
}

export function pageErrors(page: Page): string[] {
  return (page as Page & { __errors?: string[] }).__errors ?? [];
}

/**
 * For a spec file's top level: returns `tmp()`, which makes a fresh folder under the OS temp
 * folder; every folder it made is removed after the file's tests, whether they passed or not.
 */
export function tempDirsRemovedAfterAll(prefix: string): () => string {
  const made: string[] = [];
  test.afterAll(() => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: false });
}

export interface DropFile {
  /** The File's name (a browser File has no folders; webkitRelativePath is empty for drops). */
  name: string;
  /** Base64 of the bytes. */
  base64: string;
  type?: string;
}

export function dropFile(name: string, bytes: Uint8Array | string, type = ''): DropFile {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  return { name, base64: buf.toString('base64'), type };
}

/**
 * A drop as a page script sees it: a DataTransfer holding real File objects (bytes the test
 * made), dispatched as dragenter → dragover → drop on the page.
 */
export async function dropFiles(page: Page, files: DropFile[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.base64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    await page.dispatchEvent('[data-testid="app"]', type, { dataTransfer });
  }
}

/**
 * A native drop of files or folders from disk, through Chromium's own drag-and-drop
 * (DevTools protocol Input.dispatchDragEvent): folders arrive as directory entries, exactly as
 * when a user drags a folder from the file manager.
 */
export async function dropPaths(page: Page, paths: string[]): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
    await cdp.send('Input.dispatchDragEvent', {
      type,
      x: Math.round(size.width / 2),
      y: Math.round(size.height / 2),
      data,
    });
  }
  await cdp.detach();
}

const CLASSES = 9;

/** One feature file: `rows` frames of 16 numbers, a class-dependent bump so it is learnable. */
export function featureText(rows: number, label: number, seed: number, bad?: 'inf' | 'text'): string {
  const lines: string[] = [];
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
  for (let t = 0; t < rows; t++) {
    const row: string[] = [];
    for (let c = 0; c < 16; c++) row.push((Math.exp(-((c - label * 1.7) ** 2) / 4) * 3 + rnd()).toFixed(4));
    lines.push(row.join(' '));
  }
  if (bad === 'inf') lines[3] = lines[3].replace(/^\S+/, '-Inf');
  if (bad === 'text') lines[2] = 'these are not numbers at all';
  return `${lines.join('\n')}\n`;
}

export interface MiniSet {
  root: string;
  train: { listed: number; kept: number; nonFinite: number; short: number; missing: number; malformed: number };
  dev: { listed: number; kept: number };
  /** The files the protocol drops, relative to the root. */
  dropped: string[];
}

/**
 * Writes a small course-layout dataset: 27 good train examples (3 per class) plus one -Inf
 * file, one short file, one missing file and one malformed file; 18 dev examples; with
 * `withEval`, 9 eval examples too.
 */
export function writeMiniEeSet(root: string, { withEval = false } = {}): MiniSet {
  const files = new Map<string, string>();
  const trainLab: string[] = [];
  const devLab: string[] = [];
  const evalLab: string[] = [];
  let seed = 1;
  for (let k = 0; k < CLASSES; k++) {
    for (let j = 0; j < 3; j++) {
      const p = `train/fbc/S${j}_L${k}_fbc.txt`;
      files.set(p, featureText(80 + j, k, seed++));
      trainLab.push(`${k} ${p}`);
    }
    for (let j = 0; j < 2; j++) {
      const p = `dev/fbc/D${j}_L${k}_fbc.txt`;
      files.set(p, featureText(75, k, seed++));
      devLab.push(`${k} ${p}`);
    }
    if (withEval) {
      const p = `eval/fbc/E0_L${k}_fbc.txt`;
      files.set(p, featureText(75, k, seed++));
      evalLab.push(`${k} ${p}`);
    }
  }
  files.set('train/fbc/BAD_INF_fbc.txt', featureText(80, 1, 99, 'inf'));
  trainLab.push('1 train/fbc/BAD_INF_fbc.txt');
  files.set('train/fbc/BAD_SHORT_fbc.txt', featureText(20, 2, 98));
  trainLab.push('2 train/fbc/BAD_SHORT_fbc.txt');
  trainLab.push('3 train/fbc/BAD_MISSING_fbc.txt');
  files.set('train/fbc/BAD_TEXT_fbc.txt', featureText(80, 4, 97, 'text'));
  trainLab.push('4 train/fbc/BAD_TEXT_fbc.txt');
  files.set('train/lab/mini_train_labels.txt', `${trainLab.join('\n')}\n`);
  files.set('dev/lab/mini_dev_labels.txt', `${devLab.join('\n')}\n`);
  if (withEval) files.set('eval/lab/mini_eval_labels.txt', `${evalLab.join('\n')}\n`);
  for (const [rel, text] of files) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return {
    root,
    train: { listed: 31, kept: 27, nonFinite: 1, short: 1, missing: 1, malformed: 1 },
    dev: { listed: 18, kept: 18 },
    dropped: ['BAD_INF_fbc.txt', 'BAD_SHORT_fbc.txt', 'BAD_MISSING_fbc.txt', 'BAD_TEXT_fbc.txt'],
  };
}

/** Reads the chart panel's step count (raw points held, before decimation). */
export async function chartSteps(page: Page, testid = 'charts'): Promise<number> {
  return Number((await page.getByTestId(testid).getAttribute('data-steps')) ?? '0');
}

/** Presses Train and waits until the progress strip shows the new run (not the previous one). */
export async function startRun(page: Page): Promise<string> {
  const progress = page.getByTestId('progress');
  const before = (await progress.getAttribute('data-run')) ?? '';
  await page.getByTestId('train-start').click();
  await expect(progress).not.toHaveAttribute('data-run', before);
  return (await progress.getAttribute('data-run')) ?? '';
}

/** A minimal POSIX ustar archive of regular files (what `tar -cf` writes for plain files). */
export function tarOf(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const [name, data] of Object.entries(files)) {
    const header = new Uint8Array(512);
    const put = (text: string, at: number, len: number) => header.set(enc.encode(text).subarray(0, len), at);
    const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
    put(name, 0, 100);
    put(octal(0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(data.byteLength, 12), 124, 12);
    put(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
    put('        ', 148, 8);
    put('0', 156, 1);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    let sum = 0;
    for (const b of header) sum += b;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
    blocks.push(header, data, new Uint8Array((512 - (data.byteLength % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}
