/**
 * JSON-RPC 2.0 control of workers and build requests, as Buildbot's Data API:
 * - `POST /api/v2/workers/<id or name>` with method `pause`, `unpause`, `stop` (graceful:
 *   finish the running builds, take no new one, then shut the worker down) or `kill`
 *   (disconnect now);
 * - `POST /api/v2/buildrequests/<id>` with method `cancel`.
 * `params.reason` is optional. Answers `{"jsonrpc": "2.0", "id", "result": null}`; errors
 * keep JSON-RPC's shape with a 4xx status, like the other control routes.
 */
import type { FastifyInstance } from 'fastify';
import { YardmasterError } from '../errors.js';
import type { MasterControl, WorkerAction } from './control.js';
import { RPC_INVALID_PARAMS, handleRpc as handle, reasonOf, rpcError } from './control-routes.js';

type Method = (params: Record<string, unknown>) => Promise<unknown>;

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
