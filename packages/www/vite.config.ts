// Builds the web UI into dist/ (served by the master at /). `npm run dev -w @yardmaster/www`
// serves it with hot reload and proxies the API to a master on 127.0.0.1:8010.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const master = 'http://127.0.0.1:8010';

export default defineConfig({
  plugins: [react()],
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
