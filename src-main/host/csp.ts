/**
 * The renderer's Content-Security-Policy, the same as the <meta> tag in src-renderer/index.html,
 * also sent as a response header by the browser host and the Electron shell.
 */
export const RENDERER_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:*; frame-ancestors 'none'";
