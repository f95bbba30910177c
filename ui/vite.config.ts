import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
// Set by `tauri android dev` / `tauri ios dev` so a device can reach the dev server.
const devHost = process.env.TAURI_DEV_HOST;

// Modes:
// - `vite --mode mock` (npm run dev:web): a plain browser, answered by ui/src/mock/backend.ts from
//   recorded real results (ui/mock/recorded/).
// - any other mode (npm run dev:ui, npm run build:ui): the real front end, which talks to the Tauri
//   backend only; the mock code and the recordings are not in the bundle.
export default defineConfig(({ mode }) => ({
  root,
  base: './',
  publicDir: false,
  clearScreen: false,
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  server: {
    host: devHost || '127.0.0.1',
    port: 5173,
    // `tauri dev` expects exactly this port; the browser mode may move to a free one
    strictPort: mode !== 'mock',
    hmr: devHost ? { protocol: 'ws', host: devHost, port: 5174 } : undefined,
  },
  preview: {
    host: '127.0.0.1',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Linux), WKWebView (Safari 16+), Android System WebView 110+
    target: ['es2022', 'chrome110', 'safari16'],
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
}));
