/**
 * Named prepared statements on PostgreSQL for the few statements that ask for them.
 *
 * A statement whose SQL text starts with {@link PREPARED} is sent as a named statement
 * (`ym_<hash of the text>`): PostgreSQL parses it once per connection and, after its
 * first few runs, keeps a generic plan, so the settling writes of every build (a build's
 * end with its request and buildset, a step's end) stop being planned again each time —
 * planning was ~0.9 ms of the server's time per build for the build's end alone.
 * Only statements whose result columns cannot change with the schema may be marked (they
 * return `json` built in the statement): a prepared `select *` or `returning *` fails
 * with "cached plan must not change result type" once a migration adds a column, which a
 * rolling upgrade does while old masters still run (decision 0014).
 *
 * State: a bounded map from SQL text to statement name, shared by every connection of
 * the process (pg keeps which names each connection has parsed). Texts beyond the bound
 * run unnamed, as every other statement does.
 */
import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';

/** The marker a statement's text starts with to be sent as a named prepared statement. */
export const PREPARED = '/* prepared */ ';

const MAX_NAMES = 256;
const names = new Map<string, string>();

/** The statement name for `text`, or undefined when it is not marked or the map is full. */
export function preparedName(text: string): string | undefined {
  if (!text.startsWith(PREPARED)) return undefined;
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMES) {
    name = `ym_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

interface NamedQueryClient {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<unknown>;
}

/** `client` as Kysely sees it, sending marked statements by name. */
function preparingClient(client: PostgresPoolClient): PostgresPoolClient {
  return {
    query: ((textOrCursor: unknown, parameters?: readonly unknown[]) => {
      if (typeof textOrCursor === 'string') {
        const name = preparedName(textOrCursor);
        if (name !== undefined) {
          return (client as unknown as NamedQueryClient).query({
            name,
            text: textOrCursor,
            values: parameters ?? [],
          });
        }
      }
      return (client.query as (...args: unknown[]) => unknown).call(
        client,
        textOrCursor,
        parameters,
      );
    }) as PostgresPoolClient['query'],
    release: () => client.release(),
  };
}

/** `pool` with every connection it hands out sending marked statements by name. */
export function preparingPool(pool: PostgresPool): PostgresPool {
  return {
    connect: async () => preparingClient(await pool.connect()),
    end: () => pool.end(),
  };
}
