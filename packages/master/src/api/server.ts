/**
 * The web port: REST (`/api/v2`), control calls and, later, live events and the UI.
 * Errors leave as `{"error": {"code", "message"}}` with a 4xx for the caller's mistakes.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DataApi } from '../data/data-api.js';
import { YardmasterError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MasterControl } from './control.js';
import { registerRestRoutes } from './rest-routes.js';
import { registerControlRoutes } from './control-routes.js';

export interface ApiServerOptions {
  data: DataApi;
  control: MasterControl;
  log: Logger;
}

export function createApiServer(options: ApiServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024 * 1024,
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof YardmasterError) {
      if (error.httpStatus >= 500) request.log.error({ err: error }, error.message);
      return reply.code(error.httpStatus).send({ error: { code: error.code, message: error.message } });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: { code: 'bad_request', message: (error as Error).message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error; see the master log' } });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    return reply.code(404).send({
      error: { code: 'not_found', message: `Invalid path: ${path.replace(/^\/api\/v2\/?/, '')}` },
    });
  });

  registerRestRoutes(app, options.data, options.control);
  registerControlRoutes(app, options.control);
  return app;
}
