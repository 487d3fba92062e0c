/**
 * JSON-RPC 2.0 control of workers and build requests, as Buildbot's Data API:
 * - `POST /api/v2/workers/<id or name>` with method `pause`, `unpause`, `stop` (graceful:
 *   finish the running builds, take no new one, then shut the worker down) or `kill`
 *   (disconnect now);
 * - `POST /api/v2/buildrequests/<id>` with method `cancel`.
 * `params.reason` is optional. Answers `{"jsonrpc": "2.0", "id", "result": null}`; errors
 * keep JSON-RPC's shape with a 4xx status, like the other control routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { YardmasterError } from '../errors.js';
import type { MasterControl, WorkerAction } from './control.js';
import {
  RPC_INTERNAL_ERROR,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_METHOD_NOT_FOUND,
} from './control-routes.js';

type Method = (params: Record<string, unknown>) => Promise<unknown>;

function rpcError(reply: FastifyReply, status: number, id: unknown, code: number, message: string) {
  return reply.code(status).send({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });
}

async function handle(
  request: FastifyRequest,
  reply: FastifyReply,
  methods: Record<string, Method>,
) {
  const body = request.body;
  if (!(request.headers['content-type'] ?? '').includes('application/json')) {
    return rpcError(
      reply,
      400,
      null,
      RPC_INVALID_REQUEST,
      'expected Content-Type: application/json',
    );
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return rpcError(
      reply,
      400,
      null,
      RPC_INVALID_REQUEST,
      'expected one JSON-RPC 2.0 call as a JSON object',
    );
  }
  const call = body as Record<string, unknown>;
  if (call.jsonrpc !== '2.0' || typeof call.method !== 'string') {
    return rpcError(
      reply,
      400,
      call.id,
      RPC_INVALID_REQUEST,
      'expected {"jsonrpc": "2.0", "method": "...", "params": {...}}',
    );
  }
  const params = call.params ?? {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    return rpcError(reply, 400, call.id, RPC_INVALID_REQUEST, '"params" must be an object');
  }
  const method = methods[call.method];
  if (!method) {
    return rpcError(
      reply,
      400,
      call.id,
      RPC_METHOD_NOT_FOUND,
      `unknown method "${call.method}" (possible: ${Object.keys(methods).join(', ')})`,
    );
  }
  try {
    const result = await method(params as Record<string, unknown>);
    return reply.send({ jsonrpc: '2.0', id: call.id ?? null, result: result ?? null });
  } catch (error) {
    if (error instanceof YardmasterError && error.httpStatus < 500) {
      return rpcError(reply, error.httpStatus, call.id, RPC_INVALID_PARAMS, error.message);
    }
    request.log.error({ err: error }, 'control call failed');
    return rpcError(
      reply,
      500,
      call.id,
      RPC_INTERNAL_ERROR,
      error instanceof Error ? error.message : String(error),
    );
  }
}

function reasonOf(params: Record<string, unknown>, fallback: string): string {
  return typeof params.reason === 'string' && params.reason.trim() !== ''
    ? params.reason
    : fallback;
}

export function registerWorkerControlRoutes(app: FastifyInstance, control: MasterControl): void {
  const unsupported = (what: string) => async () => {
    throw new YardmasterError('not_supported', `this master cannot ${what}`, { httpStatus: 501 });
  };

  app.post('/api/v2/workers/:worker', async (request, reply) => {
    const { worker } = request.params as { worker: string };
    const key = /^\d+$/.test(worker) ? Number(worker) : worker;
    const action = (name: WorkerAction): Method =>
      control.controlWorker
        ? async (params) =>
            control.controlWorker?.(key, name, reasonOf(params, `${name} from the API`))
        : unsupported(`${name} workers`);
    return handle(request, reply, {
      pause: action('pause'),
      unpause: action('unpause'),
      stop: action('stop'),
      kill: action('kill'),
    });
  });

  app.post('/api/v2/buildrequests/:buildrequestid', async (request, reply) => {
    const { buildrequestid } = request.params as { buildrequestid: string };
    if (!/^\d+$/.test(buildrequestid)) {
      return rpcError(
        reply,
        400,
        null,
        RPC_INVALID_PARAMS,
        `invalid build request id "${buildrequestid}"`,
      );
    }
    return handle(request, reply, {
      cancel: control.cancelBuildRequest
        ? async (params) =>
            control.cancelBuildRequest?.(
              Number(buildrequestid),
              reasonOf(params, 'cancelled from the API'),
            )
        : unsupported('cancel build requests'),
    });
  });
}
