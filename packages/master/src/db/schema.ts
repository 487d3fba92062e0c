/**
 * Kysely table types: Buildbot's tables, with the same names and meanings.
 * Timestamps are epoch milliseconds (the REST layer shows Buildbot's seconds);
 * booleans are stored as 0/1 integers so SQLite and PostgreSQL read the same.
 */
import type { ColumnType, Generated } from 'kysely';

/** A bigint column read back as a JS number (PostgreSQL returns int8 as string unless parsed). */
type Millis = ColumnType<number, number, number>;
type Flag = number;

export interface MastersTable {
  id: Generated<number>;
  name: string;
  active: Flag;
  last_active: Millis;
}

export interface BuildersTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  /** JSON array of strings. */
  tags: string;
}

export interface BuilderMastersTable {
  builderid: number;
  masterid: number;
}

export interface WorkersTable {
  id: Generated<number>;
  name: string;
  /** JSON object: what get_worker_info answered last. */
  info: string;
  paused: Flag;
  graceful: Flag;
}

export interface ConfiguredWorkersTable {
  builderid: number;
  workerid: number;
  masterid: number;
}

export interface ConnectedWorkersTable {
  workerid: number;
  masterid: number;
}

export interface SourcestampsTable {
  id: Generated<number>;
  branch: string | null;
  revision: string | null;
  repository: string;
  project: string;
  codebase: string;
  created_at: Millis;
}

export interface ChangesTable {
  changeid: Generated<number>;
  author: string;
  committer: string | null;
  comments: string;
  branch: string | null;
  revision: string | null;
  revlink: string | null;
  when_timestamp: Millis;
  category: string | null;
  repository: string;
  codebase: string;
  project: string;
  sourcestampid: number;
  /** The previous change of the same repository, branch, project and codebase (0003). */
  parent_changeids: number | null;
}

/** A file a change touched (0003). */
export interface ChangeFilesTable {
  changeid: number;
  filename: string;
}

/** A change property (0003). */
export interface ChangePropertiesTable {
  changeid: number;
  property_name: string;
  /** JSON `[value, source]`, as Buildbot stores it. */
  property_value: string;
}

/** A long-lived object with state: a change source or a scheduler (0003). */
export interface ObjectsTable {
  id: Generated<number>;
  name: string;
  class_name: string;
}

/** One named JSON value of an object (0003). */
export interface ObjectStateTable {
  objectid: number;
  name: string;
  value_json: string;
}

/** A change a scheduler classified and has not built yet (0003). */
export interface SchedulerChangesTable {
  /** The scheduler's object id. */
  objectid: number;
  changeid: number;
  important: Flag;
}

export interface BuildsetsTable {
  id: Generated<number>;
  external_idstring: string | null;
  reason: string;
  submitted_at: Millis;
  complete: Flag;
  complete_at: Millis | null;
  results: number | null;
  parent_buildid: number | null;
  parent_relationship: string | null;
}

export interface BuildsetSourcestampsTable {
  buildsetid: number;
  sourcestampid: number;
}

export interface BuildsetPropertiesTable {
  buildsetid: number;
  property_name: string;
  /** JSON `[value, source]`, as Buildbot stores it. */
  property_value: string;
}

export interface BuildrequestsTable {
  id: Generated<number>;
  buildsetid: number;
  builderid: number;
  priority: number;
  complete: Flag;
  results: number | null;
  submitted_at: Millis;
  complete_at: Millis | null;
  waited_for: Flag;
  /** The claim: set by one conditional UPDATE; NULL while the request is pending. */
  claimed_by_masterid: number | null;
  claimed_at: Millis | null;
}

export interface BuildsTable {
  id: Generated<number>;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number | null;
  masterid: number;
  started_at: Millis;
  complete_at: Millis | null;
  state_string: string;
  results: number | null;
}

export interface BuildPropertiesTable {
  buildid: number;
  name: string;
  /** JSON value. */
  value: string;
  source: string;
}

export interface StepsTable {
  id: Generated<number>;
  number: number;
  name: string;
  buildid: number;
  started_at: Millis | null;
  complete_at: Millis | null;
  state_string: string;
  results: number | null;
  /** JSON array of {name, url}. */
  urls: string;
  hidden: Flag;
}

export interface LogsTable {
  id: Generated<number>;
  name: string;
  slug: string;
  stepid: number;
  complete: Flag;
  num_lines: number;
  /** 's' stdio (lines carry a stream prefix), 't' text, 'h' html. */
  type: string;
}

export interface LogchunksTable {
  logid: number;
  first_line: number;
  last_line: number;
  content: Uint8Array;
  /** 0 plain UTF-8, 1 gzip (chunks written before decision 0021; still read), 4 brotli. */
  compressed: number;
  /**
   * Stdio logs: the stream ('o', 'e', 'h') of every line of a chunk stored without the
   * letters in front; null when the content reads as stored (migration 0008).
   */
  stream: string | null;
}

export interface MqEventsTable {
  id: Generated<number>;
  /** Random id of the publishing bus (one per master process), to skip its own events. */
  origin: number;
  /** The routing key joined with '/'. */
  event_key: string;
  /** More routing keys of the same message, '\n'-separated (0006); null for none. */
  more_keys: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON of the message. */
  message: string;
  created_at: Millis;
}

export interface LeasesTable {
  name: string;
  masterid: number;
  expires_at: Millis;
}

export interface Database {
  mq_events: MqEventsTable;
  leases: LeasesTable;
  masters: MastersTable;
  builders: BuildersTable;
  builder_masters: BuilderMastersTable;
  workers: WorkersTable;
  configured_workers: ConfiguredWorkersTable;
  connected_workers: ConnectedWorkersTable;
  sourcestamps: SourcestampsTable;
  changes: ChangesTable;
  change_files: ChangeFilesTable;
  change_properties: ChangePropertiesTable;
  objects: ObjectsTable;
  object_state: ObjectStateTable;
  scheduler_changes: SchedulerChangesTable;
  buildsets: BuildsetsTable;
  buildset_sourcestamps: BuildsetSourcestampsTable;
  buildset_properties: BuildsetPropertiesTable;
  buildrequests: BuildrequestsTable;
  builds: BuildsTable;
  build_properties: BuildPropertiesTable;
  steps: StepsTable;
  logs: LogsTable;
  logchunks: LogchunksTable;
}
