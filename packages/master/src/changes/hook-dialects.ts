/**
 * The change-hook dialects (Buildbot's `www/hooks/base.py`, `github.py`, `gitlab.py`):
 * from a request's headers and raw body to the changes it announces. Pure functions, no
 * I/O: the routes (`change-hook-routes.ts`) read the request and store the changes.
 *
 * A request that is not acceptable throws `HookError` with its HTTP status: 403 for a
 * bad or missing GitHub signature or GitLab token (nothing is stored), 400 for a body
 * that cannot be read. Changes are Buildbot's: GitHub pushes give one change per commit
 * (`refs/heads/*` or `refs/tags/*`, not deleted branches, not `[ci skip]`), a pull
 * request (opened, reopened, synchronize) one change on `refs/pull/N/merge`; GitLab push,
 * tag push, merge request and merge-request note events likewise.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BaseHookConfig, GitHubHookConfig, GitLabHookConfig } from '../config/change-types.js';
import type { ChangeInput } from '../data/changes.js';

export class HookError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HookError';
  }
}

export interface HookRequest {
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The query string's values. */
  query: Record<string, string | undefined>;
}

function header(request: HookRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function contentType(request: HookRequest): string {
  return (header(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function equalSecrets(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

type Json = Record<string, unknown>;

function object(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function text(value: unknown): string {
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new HookError(400, `${what}: the body is not JSON (${(error as Error).message})`);
  }
}

/** An ISO 8601 date (GitHub, GitLab) → epoch ms; null when missing or unreadable. */
function dateMs(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** "Name <email>" of a push payload's author or committer object. */
function person(who: Json): string {
  return `${text(who.name)} <${text(who.email)}>`;
}

/** What GitHub's and GitLab's push payloads say alike of one commit. */
function pushedCommit(commit: Json) {
  return {
    author: person(object(commit.author)),
    files: ['added', 'modified', 'removed'].flatMap((kind) => list(commit[kind]).map(text)),
    comments: text(commit.message),
    revision: text(commit.id),
    whenTimestamp: dateMs(commit.timestamp),
    revlink: text(commit.url) || null,
  };
}

// ---------------------------------------------------------------------------------------
// base: form fields or JSON, as `buildbot sendchange` and Buildbot's base hook send them
// ---------------------------------------------------------------------------------------

export function checkBasicAuth(request: HookRequest, auth: BaseHookConfig['auth']): void {
  if (auth === null) return;
  const value = header(request, 'authorization') ?? '';
  const match = /^Basic\s+(.+)$/i.exec(value);
  const decoded = match ? Buffer.from(match[1] ?? '', 'base64').toString('utf8') : '';
  const expected = `${auth.username}:${auth.password}`;
  if (!equalSecrets(decoded, expected)) {
    throw new HookError(403, 'change hook "base": wrong or missing user and password');
  }
}

/** `author`/`who`, `comments`, `revision`, `branch`, `files` (JSON list) … → one change. */
export function baseChanges(request: HookRequest, config: BaseHookConfig): ChangeInput[] {
  checkBasicAuth(request, config.auth);
  const type = contentType(request);
  const raw = request.body.toString('utf8');
  let fields: Json;
  if (type === 'application/json') fields = object(parseJson(raw, 'change hook "base"'));
  else {
    fields = {};
    for (const [key, value] of new URLSearchParams(raw)) if (!(key in fields)) fields[key] = value;
    for (const [key, value] of Object.entries(request.query)) {
      if (!(key in fields) && value !== undefined) fields[key] = value;
    }
  }
  const decoded = (value: unknown, what: string): unknown =>
    typeof value === 'string' && value !== ''
      ? parseJson(value, `change hook "base": ${what}`)
      : value;
  const files = list(decoded(fields.files, 'files')).map(text);
  const properties = object(decoded(fields.properties, 'properties'));
  const when = fields.when_timestamp ?? fields.when;
  const whenSeconds = typeof when === 'number' ? when : Number(text(when) || NaN);
  const author = text(fields.author) || text(fields.who);
  if (author === '') {
    throw new HookError(400, 'change hook "base": "author" (or "who") is required');
  }
  const optional = (value: unknown): string | null => (text(value) === '' ? null : text(value));
  return [
    {
      author,
      committer: optional(fields.committer),
      comments: text(fields.comments),
      revision: optional(fields.revision),
      branch: optional(fields.branch),
      category: optional(fields.category),
      revlink: optional(fields.revlink),
      repository: text(fields.repository),
      project: text(fields.project),
      codebase: text(fields.codebase),
      files,
      properties,
      whenTimestamp: Number.isFinite(whenSeconds) ? Math.round(whenSeconds * 1000) : null,
    },
  ];
}

// ---------------------------------------------------------------------------------------
// GitHub
// ---------------------------------------------------------------------------------------

/** Checks `X-Hub-Signature-256` (`sha256=<hex HMAC of the raw body>`). */
export function checkGitHubSignature(request: HookRequest, config: GitHubHookConfig): void {
  const signature = header(request, 'x-hub-signature-256');
  if (!signature) {
    if (config.strict) {
      throw new HookError(403, 'change hook "github": the request has no X-Hub-Signature-256');
    }
    return;
  }
  if (config.secret === null) return;
  const [kind, digest] = signature.split('=', 2);
  if (kind !== 'sha256' || digest === undefined) {
    throw new HookError(403, `change hook "github": malformed signature "${signature}"`);
  }
  const expected = createHmac('sha256', config.secret).update(request.body).digest('hex');
  if (!equalSecrets(expected, digest.toLowerCase())) {
    throw new HookError(403, 'change hook "github": the signature does not match the secret');
  }
}

function githubPayload(request: HookRequest): Json {
  const type = contentType(request);
  const raw = request.body.toString('utf8');
  if (type === 'application/json') return object(parseJson(raw, 'change hook "github"'));
  if (type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(raw).get('payload');
    if (payload === null) throw new HookError(400, 'change hook "github": no "payload" field');
    return object(parseJson(payload, 'change hook "github": payload'));
  }
  throw new HookError(400, `change hook "github": unknown content type "${type}"`);
}

function skipped(message: string, skips: string[]): boolean {
  return skips.some((pattern) => new RegExp(pattern, 'u').test(message));
}

/** The changes of a GitHub webhook delivery (after its signature is checked). */
export function githubChanges(request: HookRequest, config: GitHubHookConfig): ChangeInput[] {
  checkGitHubSignature(request, config);
  const payload = githubPayload(request);
  const event = header(request, 'x-github-event') ?? '';
  const codebase = config.codebase ?? undefined;
  switch (event) {
    case 'ping':
    case 'workflow_run':
      return [];
    case 'push': {
      const repository = object(payload.repository);
      const refname = text(payload.ref);
      const match = /^refs\/(heads|tags)\/(.+)$/.exec(refname);
      if (!match || payload.deleted === true) return [];
      const headCommit = object(payload.head_commit);
      if (skipped(text(headCommit.message), config.skips)) return [];
      const commits = payload.created === true ? [headCommit] : list(payload.commits).map(object);
      return commits.map((commit): ChangeInput => {
        return {
          ...pushedCommit(commit),
          committer: person(object(commit.committer)),
          branch: match[2] ?? '',
          repository: text(repository.html_url),
          project: text(repository.full_name),
          category: match[1] === 'tags' ? 'tag' : null,
          properties: { github_distinct: commit.distinct ?? true, event },
          ...(codebase === undefined ? {} : { codebase }),
        };
      });
    }
    case 'pull_request': {
      const action = text(payload.action);
      if (!['opened', 'reopened', 'synchronize'].includes(action)) return [];
      const pull = object(payload.pull_request);
      const number = text(payload.number);
      const title = text(pull.title);
      const body = text(pull.body);
      if (skipped(`${title}\n${body}`, config.skips)) return [];
      const commits = Number(pull.commits ?? 0);
      const revlink = text(object(object(pull._links).html).href);
      const base = object(pull.base);
      return [
        {
          author: text(object(payload.sender).login),
          comments: `GitHub Pull Request #${number} (${commits} commit${commits === 1 ? '' : 's'})\n${title}\n${body}`,
          revision: text(object(pull.head).sha),
          whenTimestamp: dateMs(pull.created_at),
          branch: `refs/pull/${number}/${config.pullrequestRef}`,
          files: [],
          revlink: revlink || null,
          repository: text(object(payload.repository).html_url),
          project: text(object(base.repo).full_name),
          category: 'pull',
          properties: {
            pullrequesturl: revlink,
            event,
            basename: text(base.ref),
            'github.number': Number(number),
            'github.head.ref': text(object(pull.head).ref),
            'github.head.sha': text(object(pull.head).sha),
          },
          ...(codebase === undefined ? {} : { codebase }),
        },
      ];
    }
    default:
      throw new HookError(400, `change hook "github": unknown event "${event}"`);
  }
}

// ---------------------------------------------------------------------------------------
// GitLab
// ---------------------------------------------------------------------------------------

/** Checks `X-Gitlab-Token` against the secret. */
export function checkGitLabToken(request: HookRequest, config: GitLabHookConfig): void {
  if (config.secret === null) return;
  const token = header(request, 'x-gitlab-token') ?? '';
  if (!equalSecrets(token, config.secret)) {
    throw new HookError(403, 'change hook "gitlab": the X-Gitlab-Token does not match the secret');
  }
}

/** The changes of a GitLab webhook delivery (after its token is checked). */
export function gitlabChanges(request: HookRequest, config: GitLabHookConfig): ChangeInput[] {
  checkGitLabToken(request, config);
  const payload = object(parseJson(request.body.toString('utf8'), 'change hook "gitlab"'));
  const event = text(payload.object_kind) || (header(request, 'x-gitlab-event') ?? '');
  const codebaseText = request.query.codebase ?? config.codebase ?? undefined;
  const codebase = codebaseText === undefined ? {} : { codebase: codebaseText };
  if (event === 'push' || event === 'tag_push' || event === 'Push Hook') {
    const repository = object(payload.repository);
    const match = /^refs\/(heads|tags)\/(.+)$/.exec(text(payload.ref));
    if (!match || payload.deleted === true) return [];
    return list(payload.commits)
      .map(object)
      .filter((commit) => commit.distinct !== false)
      .map((commit): ChangeInput => {
        return {
          ...pushedCommit(commit),
          branch: match[2] ?? '',
          repository: text(repository.url),
          project: text(repository.name),
          category: event,
          properties: { event },
          ...codebase,
        };
      });
  }
  if (event === 'merge_request' || event === 'note') {
    const attrs = object(payload.object_attributes);
    const request_ = event === 'note' ? object(payload.merge_request) : attrs;
    if (event === 'note' && !('merge_request' in payload)) return [];
    if (event === 'merge_request') {
      const state = text(attrs.state);
      const action = text(attrs.action);
      if (/^(closed|merged|approved)$/.test(state)) return [];
      if (!/^(open|reopen)$/.test(action) && !(action === 'update' && 'oldrev' in attrs)) return [];
    }
    const commit = object(request_.last_commit);
    const author = object(commit.author);
    const source = object(request_.source);
    const target = object(request_.target);
    const properties: Record<string, unknown> = {
      source_branch: text(request_.source_branch),
      source_project_id: request_.source_project_id ?? null,
      source_repository: text(source.git_http_url),
      source_git_ssh_url: text(source.git_ssh_url),
      target_branch: text(request_.target_branch),
      target_project_id: request_.target_project_id ?? null,
      target_repository: text(target.git_http_url),
      target_git_ssh_url: text(target.git_ssh_url),
      event,
    };
    if (event === 'note') properties.comments = text(attrs.note);
    return [
      {
        author: `${text(author.name)} <${text(author.email)}>`,
        files: [],
        comments: `MR#${text(request_.iid)}: ${text(request_.title)}\n\n${text(request_.description)}`,
        revision: text(commit.id),
        whenTimestamp: dateMs(commit.timestamp),
        branch: text(request_.target_branch),
        repository: text(target.git_http_url),
        project: text(target.name),
        category: event,
        revlink: text(request_.url) || null,
        properties,
        ...codebase,
      },
    ];
  }
  return [];
}
