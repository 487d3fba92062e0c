/**
 * Serves the web UI (`packages/www`, built by Vite into its dist/) at `/`.
 *
 * - `/assets/*`: the hashed bundles, cached for a year (their names change with content),
 *   brotli or gzip when the browser accepts it (precompressed by the build).
 * - Any other GET that is not `/api`, `/sse` or `/ws`: a file at the top of dist/ if there
 *   is one (favicon.svg), else index.html (never cached), so every deep link of the
 *   single-page UI (`/builders/3/builds/12`) loads it and the client router takes over.
 * - Unknown `/api`, `/sse` and `/ws` paths keep the REST API's JSON 404.
 * - Without a built UI, `/` and the fallback answer 503 with how to build it; the REST API
 *   works regardless. Files are looked up per request, so building the UI while the master
 *   runs is enough.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

const NOT_UI = /^\/(?:api|sse|ws)(?:\/|$|\?)/;
const TOP_LEVEL_FILE = /^\/([\w-]+(?:\.[\w-]+)+)$/;

/** Where the built UI is: `@yardmaster/www`'s dist/, or beside this package in the repository. */
export function defaultUiDir(): string {
  try {
    const pkg = fileURLToPath(import.meta.resolve('@yardmaster/www/package.json'));
    return path.join(path.dirname(pkg), 'dist');
  } catch {
    return fileURLToPath(new URL('../../../www/dist/', import.meta.url));
  }
}

function notBuilt(reply: FastifyReply, dir: string) {
  return reply
    .code(503)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      '<!doctype html><meta charset="utf-8"><title>Yardmaster: web UI not built</title>' +
        '<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5">' +
        '<h1>The web UI is not built</h1>' +
        `<p>This master looked for it in <code>${dir.replace(/[<>&]/g, '')}</code> and found no <code>index.html</code>.</p>` +
        '<p>Build it with <code>npm run build</code> (or <code>npm run build -w @yardmaster/www</code>) ' +
        'in the repository, then reload this page; no restart is needed.</p>' +
        '<p>The REST API works meanwhile: <a href="/api/v2">/api/v2</a>.</p></body>',
    );
}

export function registerStaticUi(app: FastifyInstance, options: { dir?: string } = {}): void {
  const dir = options.dir ?? defaultUiDir();
  const assets = path.join(dir, 'assets');

  void app.register(fastifyStatic, {
    root: assets,
    prefix: '/assets/',
    // The directory may not exist until the UI is built.
    allowedPath: () => existsSync(assets),
    immutable: true,
    maxAge: '365d',
    // The build writes .br and .gz beside each bundle (packages/www/vite.config.ts).
    preCompressed: true,
    setHeaders: (res) => {
      res.setHeader('vary', 'accept-encoding');
    },
    index: false,
    wildcard: true,
  });

  const serveUi = async (request: { url: string }, reply: FastifyReply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    if (NOT_UI.test(pathname)) return reply.callNotFound();
    const file = TOP_LEVEL_FILE.exec(pathname)?.[1];
    if (file && file !== 'index.html' && isFile(path.join(dir, file))) {
      return reply
        .header('cache-control', 'public, max-age=3600')
        .sendFile(file, dir, { cacheControl: false });
    }
    if (!isFile(path.join(dir, 'index.html'))) return notBuilt(reply, dir);
    return reply
      .header('cache-control', 'no-cache')
      .sendFile('index.html', dir, { cacheControl: false });
  };

  app.get('/', serveUi);
  app.get('/*', serveUi);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
