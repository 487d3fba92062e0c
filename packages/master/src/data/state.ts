/**
 * Object state (Buildbot's `objects` / `object_state`): each long-lived object (a change
 * source, a scheduler) has an id for its (name, class) and any number of named JSON
 * values, kept across restarts and shared by every master.
 *
 * Values are stored as canonical JSON (object keys sorted), so a compare-and-set can test
 * the stored text: `setIf` writes only when the value is still the one the caller read,
 * which is how a change source or scheduler that lost its lease to another master (or ran
 * twice after a restart) is kept from acting on the same input twice. The same check runs
 * inside other data modules' transactions (`compareAndSetIn`), so "the changes I found"
 * and "what I have seen" are written together or not at all.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { DataContext } from './context.js';

/** The state someone else changed between a read and a `setIf`: the caller must re-read. */
export class StateConflictError extends Error {
  constructor(objectid: number, name: string) {
    super(`state "${name}" of object ${objectid} was changed by someone else; re-read it`);
    this.name = 'StateConflictError';
  }
}

/** A compare-and-set: write `value` when the stored value is still `expected` (undefined: absent). */
export interface StateUpdate {
  objectid: number;
  name: string;
  expected: unknown;
  value: unknown;
}

/** JSON with object keys sorted, so equal values have equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

/**
 * Applies `update` in `trx` (or any Kysely handle); throws `StateConflictError` when the
 * stored value is not `update.expected` any more (the transaction then rolls back).
 */
export async function compareAndSetIn(
  trx: Kysely<Database> | Transaction<Database>,
  update: StateUpdate,
): Promise<void> {
  const text = canonicalJson(update.value);
  if (update.expected === undefined) {
    const inserted = await trx
      .insertInto('object_state')
      .values({ objectid: update.objectid, name: update.name, value_json: text })
      .onConflict((oc) => oc.columns(['objectid', 'name']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) {
      throw new StateConflictError(update.objectid, update.name);
    }
    return;
  }
  const updated = await trx
    .updateTable('object_state')
    .set({ value_json: text })
    .where('objectid', '=', update.objectid)
    .where('name', '=', update.name)
    .where('value_json', '=', canonicalJson(update.expected))
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new StateConflictError(update.objectid, update.name);
}

export class StateData {
  private readonly ids = new Map<string, number>();

  constructor(private readonly ctx: DataContext) {}

  /** The id of the object `name` of class `className`, created on first use. */
  async objectId(name: string, className: string): Promise<number> {
    const key = `${className}\n${name}`;
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    await this.ctx.db
      .insertInto('objects')
      .values({ name, class_name: className })
      .onConflict((oc) => oc.columns(['name', 'class_name']).doNothing())
      .execute();
    const row = await this.ctx.db
      .selectFrom('objects')
      .select('id')
      .where('name', '=', name)
      .where('class_name', '=', className)
      .executeTakeFirstOrThrow();
    this.ids.set(key, row.id);
    return row.id;
  }

  /** The stored value, or `undefined` when there is none. */
  async get(objectid: number, name: string): Promise<unknown> {
    const row = await this.ctx.db
      .selectFrom('object_state')
      .select('value_json')
      .where('objectid', '=', objectid)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return undefined;
    try {
      return JSON.parse(row.value_json) as unknown;
    } catch {
      return undefined;
    }
  }

  /** Writes the value unconditionally. */
  async set(objectid: number, name: string, value: unknown): Promise<void> {
    const text = canonicalJson(value);
    await this.ctx.db
      .insertInto('object_state')
      .values({ objectid, name, value_json: text })
      .onConflict((oc) => oc.columns(['objectid', 'name']).doUpdateSet({ value_json: text }))
      .execute();
  }

  /** Writes `update.value` if the stored value is still `update.expected`; else StateConflictError. */
  async setIf(update: StateUpdate): Promise<void> {
    await this.ctx.db.transaction().execute((trx) => compareAndSetIn(trx, update));
  }
}
