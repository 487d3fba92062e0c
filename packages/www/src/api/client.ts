/**
 * HTTP to the master: `GET /api/v2/...` reads and JSON-RPC 2.0 control calls
 * (`POST /api/v2/<path>` with `{"jsonrpc": "2.0", "method", "params"}`). Errors carry the
 * server's own message, so the UI can show why something was refused.
 */

export const API_ROOT = '/api/v2';

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when the master could not be reached at all. */
    readonly status: number,
    readonly code: string | number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

function messageOf(
  body: unknown,
  fallback: string,
): { message: string; code: string | number | null } {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = body.error;
    if (typeof error === 'string') return { message: error, code: null };
    if (error && typeof error === 'object') {
      const e = error as { message?: unknown; code?: unknown };
      if (typeof e.message === 'string') {
        return {
          message: e.message,
          code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : null,
        };
      }
    }
  }
  return { message: fallback, code: null };
}

async function request(path: string, init: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${API_ROOT}${path}`, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError('The master cannot be reached. Is it running?', 0);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    const fallback = `${init.method ?? 'GET'} ${path} failed: HTTP ${response.status}`;
    const { message, code } = messageOf(body, fallback);
    throw new ApiError(message, response.status, code);
  }
  if (body !== null && typeof body === 'object' && 'error' in body) {
    const { message, code } = messageOf(body, 'the master reported an error');
    throw new ApiError(message, response.status, code);
  }
  return body;
}

/** `GET /api/v2<path>` as JSON. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request(path, {
    headers: { accept: 'application/json' },
    signal: signal ?? null,
  })) as T;
}

let rpcId = 0;

/** A JSON-RPC call such as `force`, `stop`, `pause`; returns its `result`. */
export async function rpc<T = unknown>(
  path: string,
  method: string,
  params: Record<string, unknown> = {},
): Promise<T> {
  const body = (await request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, id: ++rpcId, params }),
  })) as { result?: T };
  return body.result as T;
}

/** Builds a query string from options, leaving out undefined ones. */
export function query(options: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(options)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}
