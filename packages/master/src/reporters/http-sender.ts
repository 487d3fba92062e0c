/**
 * HTTP requests of the reporters, with retries: a network error, a timeout, a 5xx or a 429
 * answer is tried again after `retryDelay`, doubled each time, at most `retries` more
 * times; any other answer is final. One connection per request (no keep-alive pool), so
 * nothing stays open after a report.
 *
 * State: the sender owns one AbortController; `close()` aborts the request in flight and
 * any wait between attempts at once (no timer outlives it), and later sends fail fast.
 * Nothing here logs: callers log the outcome, through their secret redactor.
 */
import http from 'node:http';
import https from 'node:https';

export interface SendOptions {
  retries: number;
  /** Milliseconds before the first retry. */
  retryDelay: number;
  /** Milliseconds per attempt. */
  timeout: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface HttpAnswer {
  status: number;
  text: string;
  /** Attempts made (1 = no retry). */
  attempts: number;
}

export class SenderClosedError extends Error {
  constructor() {
    super('the reporter was stopped');
  }
}

function retryable(status: number): boolean {
  return status >= 500 || status === 429;
}

export class HttpSender {
  private readonly closing = new AbortController();

  constructor(private readonly options: SendOptions) {}

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  close(): void {
    this.closing.abort();
  }

  /** Sends `request`; resolves with the last answer, rejects when no answer came at all. */
  async send(request: HttpRequest): Promise<HttpAnswer> {
    let lastError: unknown = null;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new SenderClosedError();
      try {
        const answer = await this.attempt(request);
        if (!retryable(answer.status) || attempt > this.options.retries) {
          return { ...answer, attempts: attempt };
        }
        lastError = new Error(`HTTP ${answer.status}`);
      } catch (error) {
        if (this.closed) throw new SenderClosedError();
        lastError = error;
        if (attempt > this.options.retries) break;
      }
      await this.pause(this.options.retryDelay * 2 ** (attempt - 1));
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  private attempt(request: HttpRequest): Promise<{ status: number; text: string }> {
    const url = new URL(request.url);
    const headers: Record<string, string> = { ...request.headers };
    let body: Buffer | undefined;
    if (request.body !== undefined) {
      headers['Content-Type'] ??= 'application/json';
      body = Buffer.from(JSON.stringify(request.body), 'utf8');
      headers['Content-Length'] = String(body.length);
    }
    const signal = AbortSignal.any([
      this.closing.signal,
      AbortSignal.timeout(this.options.timeout),
    ]);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const outgoing = transport.request(
        url,
        { method: request.method, headers, agent: false, signal },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new SenderClosedError());
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(new SenderClosedError());
      };
      const timer = setTimeout(() => {
        this.closing.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.closing.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
