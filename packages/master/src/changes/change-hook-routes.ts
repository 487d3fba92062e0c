/**
 * Change hooks on the web port (Buildbot's `/change_hook/<dialect>`): `POST
 * /change_hook/github`, `/change_hook/gitlab` and `/change_hook/base` (also plain
 * `/change_hook`). A dialect answers only when `www.changeHooks` configures it (404
 * otherwise); the config is read per request, so a reload applies at once.
 *
 * Bodies are read raw (a GitHub signature is an HMAC of the exact bytes), at most 16 MiB.
 * The changes of one request are stored in one transaction. Answers, as Buildbot's:
 * 202 `N change(s) found` / `no change found`; 403 (bad signature or token; nothing
 * stored) and 400 (unreadable body) with the reason as text.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeHooksConfig } from '../config/change-types.js';
import type { ChangeInput } from '../data/changes.js';
import type { DataApi } from '../data/data-api.js';
import type { MasterControl } from '../api/control.js';
import {
  baseChanges,
  githubChanges,
  gitlabChanges,
  HookError,
  type HookRequest,
} from './hook-dialects.js';

const NO_HOOKS: ChangeHooksConfig = { github: null, gitlab: null, base: null };

type Dialect = keyof ChangeHooksConfig;

function changesOf(
  dialect: Dialect,
  hooks: ChangeHooksConfig,
  request: HookRequest,
): ChangeInput[] {
  switch (dialect) {
    case 'github':
      return hooks.github ? githubChanges(request, hooks.github) : notConfigured(dialect);
    case 'gitlab':
      return hooks.gitlab ? gitlabChanges(request, hooks.gitlab) : notConfigured(dialect);
    case 'base':
      return hooks.base ? baseChanges(request, hooks.base) : notConfigured(dialect);
  }
}

function notConfigured(dialect: string): never {
  throw new HookError(
    404,
    `change hook "${dialect}" is not enabled on this master; add it to www.changeHooks in the config`,
  );
}

export function registerChangeHookRoutes(
  app: FastifyInstance,
  data: DataApi,
  control: MasterControl,
): void {
  void app.register(async (hooks) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: 16 * 1024 * 1024 },
      (_request, body, done) => done(null, body),
    );
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const params = request.params as { dialect?: string };
      const dialect =
        params.dialect === undefined || params.dialect === '' ? 'base' : params.dialect;
      const log = request.log;
      if (dialect !== 'github' && dialect !== 'gitlab' && dialect !== 'base') {
        return reply
          .code(404)
          .type('text/plain; charset=utf-8')
          .send(`unknown change hook dialect "${dialect}" (known: base, github, gitlab)`);
      }
      const hookRequest: HookRequest = {
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        query: request.query as Record<string, string | undefined>,
      };
      let changes: ChangeInput[];
      try {
        changes = changesOf(dialect, control.changeHooks?.() ?? NO_HOOKS, hookRequest);
      } catch (error) {
        if (error instanceof HookError) {
          if (error.status === 403) log.warn({ dialect }, error.message);
          return reply.code(error.status).type('text/plain; charset=utf-8').send(error.message);
        }
        throw error;
      }
      if (changes.length > 0) {
        const changeids = await data.changes.add(changes);
        log.info({ dialect, changeids }, `change hook ${dialect}: ${changeids.length} change(s)`);
      }
      return reply
        .code(202)
        .type('text/plain; charset=utf-8')
        .send(changes.length === 0 ? 'no change found' : `${changes.length} change(s) found`);
    };
    hooks.post('/change_hook', handle);
    hooks.post('/change_hook/:dialect', handle);
  });
}
