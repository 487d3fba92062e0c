// Builds the web UI into dist/ (served by the master at /). `npm run dev -w @yardmaster/www`
// serves it with hot reload and proxies the API to a master on 127.0.0.1:8010.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const master = 'http://127.0.0.1:8010';

/** Writes `.br` and `.gz` beside each script and stylesheet; the master serves them to browsers that accept them. */
function precompress(): Plugin {
  return {
    name: 'yardmaster-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist';
      for (const name of Object.keys(bundle)) {
        if (!/\.(?:js|css)$/.test(name)) continue;
        const file = path.join(dir, name);
        const data = readFileSync(file);
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': master,
      '/sse': master,
      '/ws': { target: master.replace('http', 'ws'), ws: true },
    },
  },
});
