/**
 * JSON-RPC 2.0 control endpoints, as Buildbot: `POST /api/v2/forceschedulers/<name>`
 * (method `force`) and `POST /api/v2/builds/<id>` (methods `stop`, `rebuild`).
 * One call per request; errors keep JSON-RPC's shape and a 4xx status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { YardmasterError } from '../errors.js';
import type { MasterControl } from './control.js';

interface RpcCall {
  id: unknown;
  method: string;
  params: Record<string, unknown>;
}

export const RPC_PARSE_ERROR = -32700;
export const RPC_INVALID_REQUEST = -32600;
export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_INVALID_PARAMS = -32602;
export const RPC_INTERNAL_ERROR = -32603;

export function rpcError(
  reply: FastifyReply,
  status: number,
  id: unknown,
  code: number,
  message: string,
) {
  return reply.code(status).send({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });
}

function parseCall(request: FastifyRequest): RpcCall | string {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.includes('application/json')) return 'expected Content-Type: application/json';
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'expected one JSON-RPC 2.0 call as a JSON object (batches are not supported)';
  }
  const call = body as Record<string, unknown>;
  if (call.jsonrpc !== '2.0') return 'expected "jsonrpc": "2.0"';
  if (typeof call.method !== 'string') return 'expected a string "method"';
  const params = call.params ?? {};
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    return '"params" must be an object';
  return { id: call.id, method: call.method, params: params as Record<string, unknown> };
}

/** Answers one JSON-RPC call on `request` with the matching method of `methods`. */
export async function handleRpc(
  request: FastifyRequest,
  reply: FastifyReply,
  methods: Record<string, (params: Record<string, unknown>) => Promise<unknown>>,
) {
  const call = parseCall(request);
  if (typeof call === 'string') return rpcError(reply, 400, null, RPC_INVALID_REQUEST, call);
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
    const result = await method(call.params);
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

export function reasonOf(params: Record<string, unknown>, fallback: string): string {
  return typeof params.reason === 'string' && params.reason.trim() !== ''
    ? params.reason
    : fallback;
}

export function registerControlRoutes(app: FastifyInstance, control: MasterControl): void {
  app.post('/api/v2/forceschedulers/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    return handleRpc(request, reply, {
      force: async (params) => {
        const owner = typeof params.owner === 'string' ? params.owner : null;
        const { buildsetid, buildrequestids } = await control.force(name, params, owner);
        return [
          buildsetid,
          Object.fromEntries(Object.entries(buildrequestids).map(([k, v]) => [String(k), v])),
        ];
      },
    });
  });

  app.post('/api/v2/builds/:buildid', async (request, reply) => {
    const { buildid } = request.params as { buildid: string };
    if (!/^\d+$/.test(buildid))
      return rpcError(reply, 400, null, RPC_INVALID_PARAMS, `invalid build id "${buildid}"`);
    return handleRpc(request, reply, {
      stop: async (params) => {
        await control.stopBuild(Number(buildid), reasonOf(params, 'stopped from the API'));
        return null;
      },
      rebuild: async (params) => {
        const { buildsetid, buildrequestids } = await control.rebuild(
          Number(buildid),
          reasonOf(params, 'rebuild'),
        );
        return [
          buildsetid,
          Object.fromEntries(Object.entries(buildrequestids).map(([k, v]) => [String(k), v])),
        ];
      },
    });
  });
}
