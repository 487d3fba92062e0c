/**
 * Small read-only queries for probes, metrics and latent workers: is the database
 * reachable, how many requests wait per builder, when was a request submitted (in
 * milliseconds, which the entity shapes round to Buildbot's seconds), which worker
 * names have run builds. Stateless; every function reads through the data context.
 */
import { sql } from 'kysely';
import type { DataApi } from './data-api.js';

/** `select 1` against the database; rejects when it is unreachable. */
export async function pingDatabase(data: DataApi): Promise<void> {
  await sql`select 1`.execute(data.ctx.db);
}

/** Pending (unclaimed, incomplete) build requests per builder id. */
export async function pendingRequestCounts(data: DataApi): Promise<Map<number, number>> {
  const rows = await data.ctx.db
    .selectFrom('buildrequests')
    .select(['builderid', (eb) => eb.fn.countAll<number>().as('n')])
    .where('complete', '=', 0)
    .where('claimed_by_masterid', 'is', null)
    .groupBy('builderid')
    .execute();
  return new Map(rows.map((r) => [r.builderid, Number(r.n)]));
}

/** When each request was submitted, in epoch milliseconds. */
export async function requestSubmittedAt(
  data: DataApi,
  buildrequestids: number[],
): Promise<Map<number, number>> {
  if (buildrequestids.length === 0) return new Map();
  const rows = await data.ctx.db
    .selectFrom('buildrequests')
    .select(['id', 'submitted_at'])
    .where('id', 'in', buildrequestids)
    .execute();
  return new Map(rows.map((r) => [r.id, Number(r.submitted_at)]));
}

/**
 * The names among `workers` that some build (finished or not) started on at or after its
 * `sinceMs` (a Kubernetes worker name is used again by later pods: only this pod's count).
 */
export async function workersUsedSince(
  data: DataApi,
  workers: { name: string; sinceMs: number }[],
): Promise<Set<string>> {
  if (workers.length === 0) return new Set();
  const since = new Map(workers.map((w) => [w.name, w.sinceMs]));
  const rows = await data.ctx.db
    .selectFrom('builds')
    .innerJoin('workers', 'workers.id', 'builds.workerid')
    .select(['workers.name', (eb) => eb.fn.max('builds.started_at').as('last')])
    .where('workers.name', 'in', [...since.keys()])
    .groupBy('workers.name')
    .execute();
  return new Set(
    rows.filter((r) => Number(r.last) >= (since.get(r.name) ?? Infinity)).map((r) => r.name),
  );
}

/** Names of workers connected to a master other than `masterid`, among `workerNames`. */
export async function workersConnectedElsewhere(
  data: DataApi,
  workerNames: string[],
  masterid: number,
): Promise<Set<string>> {
  if (workerNames.length === 0) return new Set();
  const rows = await data.ctx.db
    .selectFrom('connected_workers')
    .innerJoin('workers', 'workers.id', 'connected_workers.workerid')
    .innerJoin('masters', 'masters.id', 'connected_workers.masterid')
    .select('workers.name')
    .where('workers.name', 'in', workerNames)
    .where('connected_workers.masterid', '!=', masterid)
    .where('masters.active', '=', 1)
    .execute();
  return new Set(rows.map((r) => r.name));
}

/** Names of the masters that are active (heart-beat within `expiryMs` of `now`). */
export async function activeMasterNames(data: DataApi, expiryMs: number): Promise<Set<string>> {
  const since = data.ctx.now() - expiryMs;
  const rows = await data.ctx.db
    .selectFrom('masters')
    .select('name')
    .where('active', '=', 1)
    .where('last_active', '>=', since)
    .execute();
  return new Set(rows.map((r) => r.name));
}

/** The ids among `buildrequestids` that are still pending (unclaimed and incomplete). */
export async function stillPending(data: DataApi, buildrequestids: number[]): Promise<Set<number>> {
  if (buildrequestids.length === 0) return new Set();
  const rows = await data.ctx.db
    .selectFrom('buildrequests')
    .select('id')
    .where('id', 'in', buildrequestids)
    .where('complete', '=', 0)
    .where('claimed_by_masterid', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.id));
}
