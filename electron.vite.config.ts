import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

/** In dev (HMR), vite injects styles and opens a websocket: relax the page CSP there only. */
function devCsp(): Plugin {
  return {
    name: 'dlab-dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace("connect-src 'self'", "connect-src 'self' ws: http://localhost:*");
    },
  };
}

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // each training run forks this script (out/main/worker.js)
          worker: resolve(__dirname, 'src/core/runs/worker.ts'),
          // heavy request work (chart PNGs, perturbation previews and statistics) runs in worker threads of this script (out/main/thread-worker.js)
          'thread-worker': resolve(__dirname, 'src/core/thread-worker.ts'),
          // the dlab command (bin/dlab.js runs out/main/cli.js when it is newer than src/)
          cli: resolve(__dirname, 'src/cli/main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload is CommonJS and may only require 'electron': bundle the rest.
      externalizeDeps: { exclude: ['zod'] },
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [vue(), devCsp()],
    build: {
      // minified like any web build: a third of the code to parse before the first screen
      minify: 'esbuild',
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
