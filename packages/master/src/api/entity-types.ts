/**
 * The resource types of Buildbot's Data API v2 as the REST API shows them: each type's
 * plural (the key of the response envelope) and its fields with Buildbot's field types
 * (`buildbot/data/*.py`, `EntityType`). The query-option parser checks `field=`, `order=`
 * and filters against these and converts filter values with the field's type.
 */

/**
 * How a query value for the field is read (Buildbot's `valueFromString`):
 * integer and datetime (epoch seconds) as integers, boolean as on/off/true/false/yes/no/1/0,
 * string as it is, a list by the type of its elements; an object cannot be filtered.
 */
export type FieldType =
  'integer' | 'datetime' | 'boolean' | 'string' | 'integer[]' | 'string[]' | 'object';

export interface EntityType {
  /** Buildbot's singular name (`build`), used in messages. */
  name: string;
  /** The key of the response envelope (`builds`). */
  plural: string;
  fields: Readonly<Record<string, FieldType>>;
}

function entity(name: string, plural: string, fields: Record<string, FieldType>): EntityType {
  return { name, plural, fields };
}

export const ENTITY_TYPES = {
  rootlink: entity('rootlink', 'rootlinks', { name: 'string' }),
  builder: entity('builder', 'builders', {
    builderid: 'integer',
    name: 'string',
    masterids: 'integer[]',
    description: 'string',
    tags: 'string[]',
  }),
  build: entity('build', 'builds', {
    buildid: 'integer',
    number: 'integer',
    builderid: 'integer',
    buildrequestid: 'integer',
    workerid: 'integer',
    masterid: 'integer',
    started_at: 'datetime',
    complete: 'boolean',
    complete_at: 'datetime',
    results: 'integer',
    state_string: 'string',
    properties: 'object',
  }),
  buildrequest: entity('buildrequest', 'buildrequests', {
    buildrequestid: 'integer',
    buildsetid: 'integer',
    builderid: 'integer',
    priority: 'integer',
    claimed: 'boolean',
    claimed_at: 'datetime',
    claimed_by_masterid: 'integer',
    complete: 'boolean',
    results: 'integer',
    submitted_at: 'datetime',
    complete_at: 'datetime',
    waited_for: 'boolean',
    properties: 'object',
  }),
  buildset: entity('buildset', 'buildsets', {
    bsid: 'integer',
    external_idstring: 'string',
    reason: 'string',
    submitted_at: 'datetime',
    complete: 'boolean',
    complete_at: 'datetime',
    results: 'integer',
    sourcestamps: 'object',
    parent_buildid: 'integer',
    parent_relationship: 'string',
  }),
  worker: entity('worker', 'workers', {
    workerid: 'integer',
    name: 'string',
    connected_to: 'object',
    configured_on: 'object',
    workerinfo: 'object',
    paused: 'boolean',
    graceful: 'boolean',
  }),
  step: entity('step', 'steps', {
    stepid: 'integer',
    number: 'integer',
    name: 'string',
    buildid: 'integer',
    started_at: 'datetime',
    complete: 'boolean',
    complete_at: 'datetime',
    results: 'integer',
    state_string: 'string',
    urls: 'object',
    hidden: 'boolean',
  }),
  log: entity('log', 'logs', {
    logid: 'integer',
    name: 'string',
    slug: 'string',
    stepid: 'integer',
    complete: 'boolean',
    num_lines: 'integer',
    type: 'string',
  }),
  logchunk: entity('logchunk', 'logchunks', {
    logid: 'integer',
    firstline: 'integer',
    content: 'string',
  }),
  change: entity('change', 'changes', {
    changeid: 'integer',
    parent_changeids: 'integer[]',
    author: 'string',
    committer: 'string',
    files: 'string[]',
    comments: 'string',
    revision: 'string',
    when_timestamp: 'datetime',
    branch: 'string',
    category: 'string',
    revlink: 'string',
    properties: 'object',
    repository: 'string',
    project: 'string',
    codebase: 'string',
    sourcestamp: 'object',
  }),
  changesource: entity('changesource', 'changesources', {
    changesourceid: 'integer',
    name: 'string',
    master: 'object',
  }),
  master: entity('master', 'masters', {
    masterid: 'integer',
    name: 'string',
    active: 'boolean',
    last_active: 'datetime',
  }),
  scheduler: entity('scheduler', 'schedulers', {
    schedulerid: 'integer',
    name: 'string',
    enabled: 'boolean',
    master: 'object',
  }),
  forcescheduler: entity('forcescheduler', 'forceschedulers', {
    name: 'string',
    button_name: 'string',
    label: 'string',
    builder_names: 'string[]',
    enabled: 'boolean',
    all_fields: 'object',
  }),
  sourcestamp: entity('sourcestamp', 'sourcestamps', {
    ssid: 'integer',
    revision: 'string',
    branch: 'string',
    repository: 'string',
    project: 'string',
    codebase: 'string',
    patch: 'object',
    created_at: 'datetime',
  }),
  property: entity('property', 'properties', {}),
} as const satisfies Record<string, EntityType>;

export type EntityTypeName = keyof typeof ENTITY_TYPES;

/** Buildbot's `rootLinkName`s, in the order Buildbot 3.7 lists them at `GET /api/v2`. */
export const ROOT_LINKS = [
  'builders',
  'builds',
  'buildrequests',
  'workers',
  'logchunks',
  'buildsets',
  'changes',
  'changesources',
  'masters',
  'sourcestamps',
  'schedulers',
  'forceschedulers',
] as const;
