/**
 * The web port: REST (`/api/v2`), JSON-RPC control calls, live events (`/sse`, `/ws`)
 * and, later, the UI.
 *
 * Owns the Fastify instance and the live-events hub; closing the instance first closes
 * every live-event client (they would otherwise hold the server open), then the server.
 * Errors leave as `{"error": {"code", "message"}}` with a 4xx for the caller's mistakes;
 * a POST under /api/v2 always answers in JSON-RPC's shape.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { DataApi } from '../data/data-api.js';
import { YardmasterError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MasterControl } from './control.js';
import { registerRestRoutes } from './rest-routes.js';
import { ResponseCache, type ResponseCacheOptions } from './response-cache.js';
import { RPC_INVALID_REQUEST, RPC_PARSE_ERROR, registerControlRoutes } from './control-routes.js';
import { LiveEvents } from './live-events.js';
import { registerSseRoutes } from './sse-routes.js';
import { attachWebSocket } from './ws-server.js';
import { registerHealthRoutes, type MasterProbes } from './health-routes.js';
import { registerMetricsRoute } from './metrics.js';
import { registerStaticUi } from './static-ui.js';
import { registerWorkerControlRoutes } from './worker-control-routes.js';
import { registerChangeHookRoutes } from '../changes/change-hook-routes.js';
import { lazySchemaController } from './schema-compilers.js';

export interface ApiServerOptions {
  data: DataApi;
  control: MasterControl;
  log: Logger;
  /** Live-event clients further behind than this are dropped (default 4 MiB). */
  maxLiveEventBufferBytes?: number;
  /** Probes (/healthz, /readyz) and /metrics; left out, those routes are not served. */
  probes?: MasterProbes;
  /**
   * The REST response cache (api/response-cache.ts): its bounds, or one made by the caller
   * (tests read its counters); `false` turns it off. The server closes it when it closes.
   */
  responseCache?: ResponseCache | ResponseCacheOptions | false;
}

function isJsonRpc(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.url.startsWith('/api/v2');
}

export function createApiServer(options: ApiServerOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = options.log.child({ component: 'http' });
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024 * 1024,
    schemaController: lazySchemaController,
  });

  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    const code = (error as { code?: string }).code ?? '';
    if (isJsonRpc(request) && code.startsWith('FST_ERR_CTP_')) {
      // The body never reached the JSON-RPC handler: Buildbot's parse error / invalid request.
      const rpcCode =
        code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? RPC_PARSE_ERROR
          : RPC_INVALID_REQUEST;
      const message =
        rpcCode === RPC_PARSE_ERROR
          ? `JSON parse error: ${(error as Error).message}`
          : (error as Error).message;
      return reply
        .code(status === 413 ? 413 : 400)
        .send({ jsonrpc: '2.0', id: null, error: { code: rpcCode, message } });
    }
    if (error instanceof YardmasterError) {
      if (error.httpStatus >= 500) request.log.error({ err: error }, error.message);
      return reply
        .code(error.httpStatus)
        .send({ error: { code: error.code, message: error.message } });
    }
    if (status !== undefined && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: { code: 'bad_request', message: (error as Error).message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .code(500)
      .send({ error: { code: 'internal', message: 'internal error; see the master log' } });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const message = `Invalid path: ${path.replace(/^\/api\/v2\/?/, '')}`;
    if (isJsonRpc(request)) {
      return reply
        .code(404)
        .send({ jsonrpc: '2.0', id: null, error: { code: RPC_INVALID_REQUEST, message } });
    }
    return reply.code(404).send({ error: { code: 'not_found', message } });
  });

  const live = new LiveEvents(options.data.events, {
    log: options.log.child({ component: 'live-events' }),
    ...(options.maxLiveEventBufferBytes === undefined
      ? {}
      : { maxBufferedBytes: options.maxLiveEventBufferBytes }),
  });
  const cache =
    options.responseCache === false
      ? undefined
      : options.responseCache instanceof ResponseCache
        ? options.responseCache
        : new ResponseCache(options.data.events, options.responseCache);
  app.addHook('preClose', (done) => {
    live.close();
    cache?.close();
    done();
  });

  registerRestRoutes(app, options.data, options.control, cache);
  registerControlRoutes(app, options.control);
  registerSseRoutes(app, live);
  attachWebSocket(app, live);
  registerHealthRoutes(app, options.probes);
  registerMetricsRoute(app, options.probes);
  registerWorkerControlRoutes(app, options.control);
  registerChangeHookRoutes(app, options.data, options.control);
  registerStaticUi(app);
  return app;
}
