/**
 * The REST entities the UI reads, as `/api/v2` returns them (Buildbot's Data API v2).
 * Copied from the master's data layer on purpose: the UI talks only HTTP and must not
 * import the master. Times are epoch seconds.
 */

/** Properties as Buildbot shows them: name → [value, source]. */
export type PropertyMap = Record<string, [unknown, string]>;

export interface Builder {
  builderid: number;
  name: string;
  description: string | null;
  tags: string[];
  masterids: number[];
}

export interface Build {
  buildid: number;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number | null;
  masterid: number;
  started_at: number | null;
  complete_at: number | null;
  complete: boolean;
  state_string: string;
  results: number | null;
  properties: PropertyMap;
}

export interface Step {
  stepid: number;
  number: number;
  name: string;
  buildid: number;
  started_at: number | null;
  complete_at: number | null;
  complete: boolean;
  state_string: string;
  results: number | null;
  urls: { name: string; url: string }[];
  hidden: boolean;
}

export interface Log {
  logid: number;
  name: string;
  slug: string;
  stepid: number;
  complete: boolean;
  num_lines: number;
  /** `s` stdio (lines prefixed o/e/h), `t` text, `h` HTML. */
  type: string;
}

export interface LogChunk {
  logid: number;
  firstline: number;
  content: string;
}

export interface BuildRequest {
  buildrequestid: number;
  buildsetid: number;
  builderid: number;
  priority: number;
  claimed: boolean;
  claimed_at: number | null;
  claimed_by_masterid: number | null;
  complete: boolean;
  complete_at: number | null;
  results: number | null;
  submitted_at: number | null;
  waited_for: boolean;
  properties: PropertyMap | null;
}

export interface SourceStamp {
  ssid: number;
  branch: string | null;
  revision: string | null;
  repository: string;
  project: string;
  codebase: string;
  created_at: number | null;
  patch: unknown;
}

export interface Buildset {
  bsid: number;
  external_idstring: string | null;
  reason: string;
  submitted_at: number | null;
  complete: boolean;
  complete_at: number | null;
  results: number | null;
  parent_buildid: number | null;
  parent_relationship: string | null;
  sourcestamps: SourceStamp[];
}

export interface Change {
  changeid: number;
  author: string;
  committer: string | null;
  files: string[];
  comments: string;
  revision: string | null;
  when_timestamp: number | null;
  branch: string | null;
  category: string | null;
  revlink: string | null;
  repository: string;
  project: string;
  codebase: string;
}

export interface Worker {
  workerid: number;
  name: string;
  workerinfo: Record<string, unknown>;
  paused: boolean;
  graceful: boolean;
  configured_on: { builderid: number; masterid: number }[];
  connected_to: { masterid: number }[];
}

export interface Master {
  masterid: number;
  name: string;
  active: boolean;
  last_active: number | null;
}

/** One field of a force form, as Buildbot's `getSpec()` describes it; groups nest. */
export interface ForceField {
  name: string;
  /** The parameter name to post: a child's name prefixed by its group's (`lib_branch`). */
  fullName: string;
  label: string;
  tablabel?: string;
  /** `text`, `textarea`, `int`, `bool`, `list`, `fixed`, `nested` (Buildbot also has others). */
  type: string;
  default: unknown;
  required: boolean;
  hide?: boolean;
  multiple?: boolean;
  regex?: string | null;
  maxsize?: number | null;
  choices?: string[];
  strict?: boolean;
  rows?: number;
  cols?: number;
  /** For `nested`: its fields, laid out in `columns` columns. */
  fields?: ForceField[];
  layout?: string;
  columns?: number;
}

export interface ForceScheduler {
  name: string;
  label: string;
  builder_names: string[];
  button_name: string;
  all_fields: ForceField[];
}

/** `{"<plural>": [...], "meta": {"total": n}}`. */
export type Collection<K extends string, T> = { [key in K]: T[] } & { meta: { total?: number } };
