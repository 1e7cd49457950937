// Before the tests: what they need from outside npm. Chromium is required (the e2e tests); the other Debian
// packages let more tests run (the ones that need them print `skipped` without them). Where the user is root
// on Debian, missing packages are installed with apt-get; elsewhere one line says what to install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

/** Debian packages the tests use, and what each is for. */
const DEBIAN_PACKAGES = {
  chromium: 'the end-to-end tests',
  'python3-numpy': '.npz files written by NumPy itself',
  'python3-torch': 'exports checked in PyTorch',
  'libopenblas0-pthread': "PyTorch's BLAS (without it Debian's torch uses the slow reference BLAS)",
  'python3-onnx': 'ONNX exports checked by onnx',
  'espeak-ng': 'spoken letters for the audio tests',
  'python3-scipy': 'the log mel front end checked against an independent implementation',
};

const quiet = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
const succeeds = (command, args) => spawnSync(command, args, quiet).status === 0;

function chromiumPath() {
  const system = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (existsSync(system)) return system;
  return existsSync(chromium.executablePath()) ? chromium.executablePath() : null;
}

function debianInstalled(name) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], quiet);
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function aptInstall(names) {
  console.error(`test setup: installing Debian packages the tests use: ${names.join(' ')}`);
  if (!succeeds('apt-get', ['update', '-q'])) console.error('test setup: apt-get update failed; trying the install');
  const r = spawnSync('apt-get', ['install', '-y', '-q', ...names], {
    ...quiet,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) console.error(`test setup: apt-get install failed: ${r.stderr.trim().split('\n').pop()}`);
}

const isDebian = succeeds('dpkg-query', ['--version']) && succeeds('apt-get', ['--version']);
if (isDebian) {
  const wanted = Object.keys(DEBIAN_PACKAGES).filter((name) => !(name === 'chromium' && chromiumPath()));
  const missing = wanted.filter((name) => !debianInstalled(name));
  if (missing.length > 0 && process.getuid?.() === 0) aptInstall(missing);
  for (const name of missing.filter((n) => !debianInstalled(n) && n !== 'chromium')) {
    console.error(`test setup: no ${name} (for ${DEBIAN_PACKAGES[name]}): those tests skip; apt-get install ${name}`);
  }
}

if (!chromiumPath()) {
  spawnSync('npx', ['playwright', 'install', 'chromium'], quiet);
}
if (!chromiumPath()) {
  console.error(
    'test setup: no Chromium for the e2e tests: install one (Debian/Ubuntu: sudo apt-get install chromium; ' +
      'elsewhere: npx playwright install chromium) or set CHROMIUM_PATH to a Chromium binary',
  );
  process.exit(1);
}
