/**
 * Servers a test promises to close.
 *
 * Owns: the servers registered with `trackServer`, held in the shared registry until the
 * end of the test file. `closeAllServers()` (called by the Vitest setup file after every test
 * file) closes the ones still listening and reports them as leaks, so the test file fails.
 */
import type { Server } from 'node:net';

import { registry, type TrackedServer } from './registry.js';

/** The parts of a server testkit needs: Node's `net.Server` and `http.Server` fit. */
export type ClosableServer = Pick<Server, 'listening' | 'close'> & {
  closeAllConnections?: () => void;
};

/**
 * Registers a server that must be closed by the end of the test file, and returns it.
 * For Fastify pass `app.server`.
 */
export function trackServer<S extends ClosableServer>(server: S, name = 'server'): S {
  const state = registry();
  const tracked: TrackedServer = {
    name,
    isListening: () => server.listening,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
  state.servers.add(tracked);
  return server;
}

/**
 * Closes every tracked server that is still listening and returns their names (empty when
 * nothing leaked). Servers that were closed already are forgotten.
 */
export async function closeAllServers(): Promise<string[]> {
  const state = registry();
  const leaked: string[] = [];
  for (const server of [...state.servers]) {
    state.servers.delete(server);
    if (!server.isListening()) continue;
    leaked.push(server.name);
    await server.close();
  }
  return leaked;
}
