export interface HttpJsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** The body parsed as JSON, or undefined if it is empty or not JSON. */
  json: T;
  /** The raw body. */
  text: string;
}

export interface HttpJsonOptions {
  headers?: Record<string, string>;
}

/**
 * Sends one HTTP request with an optional JSON body (Node's global fetch) and returns the
 * status, headers, body text and the body parsed as JSON. A string `body` is sent as it is
 * (to test malformed input); anything else is JSON-encoded. Never throws for an HTTP error
 * status; it does for a network error. Sends `connection: close`, so no keep-alive socket
 * outlives the call and shows up as a leak.
 */
export async function httpJson<T = unknown>(
  method: string,
  url: string | URL,
  body?: unknown,
  options: HttpJsonOptions = {},
): Promise<HttpJsonResponse<T>> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    connection: 'close',
    ...options.headers,
  };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown = undefined;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: response.status, headers: response.headers, json: json as T, text };
}
