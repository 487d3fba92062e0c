/** Every migration, in order. Names sort lexically; never rename or edit a landed one. */
import type { Migration } from 'kysely';
import { columnTypes, type Dialect } from './column-types.js';
import { initialMigration } from './0001-initial.js';
import { eventsAndLeasesMigration } from './0002-events-and-leases.js';
import { changesAndStateMigration } from './0003-changes-and-state.js';
import { queueIndexMigration } from './0004-queue-index.js';
import { pendingQueueIndexMigration } from './0005-pending-queue-index.js';
import { eventKeysMigration } from './0006-event-keys.js';
import { runningStepsIndexMigration } from './0007-running-steps-index.js';
import { logChunkStreamsMigration } from './0008-log-chunk-streams.js';

export function migrations(dialect: Dialect): Record<string, Migration> {
  const types = columnTypes(dialect);
  return {
    '0001-initial': initialMigration(types),
    '0002-events-and-leases': eventsAndLeasesMigration(types),
    '0003-changes-and-state': changesAndStateMigration(types),
    '0004-queue-index': queueIndexMigration,
    '0005-pending-queue-index': pendingQueueIndexMigration,
    '0006-event-keys': eventKeysMigration,
    '0007-running-steps-index': runningStepsIndexMigration,
    '0008-log-chunk-streams': logChunkStreamsMigration,
  };
}
