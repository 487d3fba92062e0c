import { existsSync } from 'node:fs';
import { createServer } from 'node:http';

import { describe, expect, it } from 'vitest';

import { freePort } from './free-port.js';
import { httpJson } from './http-json.js';
import { activeResources, resourcesAbove } from './leak-check.js';
import { cleanupAll, makeTempDir, onCleanup } from './temp-dir.js';
import { closeAllServers, trackServer } from './track-server.js';
import { waitFor } from './wait-for.js';

describe('freePort', () => {
  it('returns a port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('makeTempDir and cleanupAll', () => {
  it('removes the directories and runs cleanups newest first', async () => {
    const order: string[] = [];
    const dir = await makeTempDir('cleanup test/1');
    expect(dir).toMatch(/yardmaster-cleanup-test-1-/);
    onCleanup('first', () => order.push('first'));
    onCleanup('second', () => order.push('second'));
    await cleanupAll();
    expect(order).toEqual(['second', 'first']);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('httpJson and trackServer', () => {
  it('sends JSON, parses JSON, and leaves no socket open', async () => {
    const baseline = activeResources();
    const server = trackServer(
      createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          response.statusCode = request.method === 'POST' ? 201 : 404;
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ method: request.method, body }));
        });
      }),
      'echo server',
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    const created = await httpJson<{ method: string; body: string }>(
      'POST',
      `http://127.0.0.1:${port}/x`,
      { a: 1 },
    );
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ method: 'POST', body: '{"a":1}' });

    const missing = await httpJson('GET', `http://127.0.0.1:${port}/y`);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('"GET"');

    expect(await closeAllServers()).toEqual(['echo server']);
    expect(server.listening).toBe(false);
    // Handles are released asynchronously, a moment after the close callback.
    await waitFor(() => resourcesAbove(baseline).length === 0, {
      timeoutMs: 2000,
      message: () => `handles to close (${resourcesAbove(baseline).join(', ')})`,
    });
  });
});
