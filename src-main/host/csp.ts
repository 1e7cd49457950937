/**
 * The renderer's Content-Security-Policy, the same as the <meta> tag in src-renderer/index.html,
 * also sent as a response header by the browser host and the Electron shell. Fonts may be data:
 * URLs: the build inlines KaTeX's smallest font files (under 4 kB) into its CSS.
 */
export const RENDERER_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
