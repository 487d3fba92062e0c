/**
 * Config types of change sources, change hooks, schedulers (other than the force
 * scheduler's own options), codebases and the `trigger` step: the descriptors a config
 * file writes and the normalized configs `validateConfig` returns. Re-exported by
 * `types.ts`; docs/config.md documents each.
 */
import type {
  BuildStepConfigBase,
  BuildStepOptions,
  DurationInput,
  JsonValue,
  Properties,
  RenderableValue,
} from './types.js';

// ---------------------------------------------------------------------------------------
// Change filters and important files
// ---------------------------------------------------------------------------------------

/**
 * Which changes a scheduler looks at (Buildbot's `util.ChangeFilter`), as data: for each
 * attribute a value or list of values (`branch`), values to refuse (`branchNotEq`),
 * regular expressions to match (`branchRe`) or refuse (`branchNotRe`). Every condition
 * must hold. `branch: null` is the default branch (a change without one).
 */
export interface ChangeFilterInput {
  project?: string | string[];
  projectNotEq?: string | string[];
  projectRe?: string | string[];
  projectNotRe?: string | string[];
  repository?: string | string[];
  repositoryNotEq?: string | string[];
  repositoryRe?: string | string[];
  repositoryNotRe?: string | string[];
  branch?: string | null | (string | null)[];
  branchNotEq?: string | null | (string | null)[];
  branchRe?: string | string[];
  branchNotRe?: string | string[];
  category?: string | null | (string | null)[];
  categoryNotEq?: string | null | (string | null)[];
  categoryRe?: string | string[];
  categoryNotRe?: string | string[];
  codebase?: string | string[];
  codebaseNotEq?: string | string[];
  codebaseRe?: string | string[];
  codebaseNotRe?: string | string[];
  /** Change properties that must have one of these values: `{ event: 'push' }`. */
  propertyEq?: Record<string, JsonValue | JsonValue[]>;
  propertyNotEq?: Record<string, JsonValue | JsonValue[]>;
  /** Change properties whose text must match: `{ github_distinct: 'True' }`. */
  propertyRe?: Record<string, string | string[]>;
  propertyNotRe?: Record<string, string | string[]>;
}

export interface ChangeFilterDescriptor extends ChangeFilterInput {
  type: 'changeFilter';
}

/** One attribute condition of a normalized change filter. */
export interface ChangeFilterCondition {
  /** `branch`, `project`, … or `property:NAME`. */
  field: string;
  /** Equal to one of these (`null` included); empty: any. */
  eq: (JsonValue | null)[] | null;
  notEq: (JsonValue | null)[] | null;
  re: string[] | null;
  notRe: string[] | null;
}

export interface ChangeFilterConfig {
  type: 'changeFilter';
  conditions: ChangeFilterCondition[];
}

/**
 * Buildbot's `fileIsImportant`, as data: a change is important when one of its files
 * matches `files` (default: any) and not `notFiles`. Globs: `*` within a path segment,
 * `**` across segments, `?` one character, `{a,b}` alternatives. A change listing no
 * files is important.
 */
export interface FileIsImportantInput {
  files?: string[];
  notFiles?: string[];
}

export interface FileIsImportantConfig {
  files: string[];
  notFiles: string[];
}

// ---------------------------------------------------------------------------------------
// Codebases
// ---------------------------------------------------------------------------------------

/** What a scheduler builds of a codebase that has no change: Buildbot's codebase dict. */
export interface CodebaseDefaults {
  repository?: string;
  branch?: string | null;
  revision?: string | null;
}

/** `['app', 'lib']` or `{ app: { repository: '…', branch: 'main' }, lib: {} }`. */
export type CodebasesInput = string[] | Record<string, CodebaseDefaults>;

export interface CodebaseConfig {
  repository: string;
  branch: string | null;
  revision: string | null;
}

// ---------------------------------------------------------------------------------------
// Change sources
// ---------------------------------------------------------------------------------------

/**
 * Which branches a git poller follows: a list of names, `true` for every branch
 * (`refs/heads/*`), or a regular expression the full ref name must match (a string, or
 * `{ match: '…' }`): `'^refs/heads/release/'`, `{ match: '^refs/tags/v' }`.
 */
export type GitPollerBranchesInput = string[] | true | string | { match: string };

export interface GitPollerOptions {
  repourl: string;
  /** Unique among change sources; default: the repository URL. */
  name?: string;
  /** One branch (the same as `branches: [branch]`). */
  branch?: string;
  /** Default `['master']`, as Buildbot (set it: most repositories use `main` now). */
  branches?: GitPollerBranchesInput;
  /** Follow tags (`refs/tags/*`) instead of branches; not with `branch`/`branches`. */
  onlyTags?: boolean;
  /** Default 10 minutes. */
  pollInterval?: DurationInput;
  /** Poll as soon as the poller starts (default: after the first interval). */
  pollAtLaunch?: boolean;
  /** The poller's bare repository, relative to the master's basedir; default `gitpoller-work`. */
  workdir?: string;
  category?: string | null;
  project?: string;
  codebase?: string;
  /** A branch that moved without new commits (a push of an existing commit) is a change too. */
  buildPushesWithNoCommits?: boolean;
  /** Use the commit time as the change's time (default true; false: when it was seen). */
  usetimestamps?: boolean;
  /** The git program; default `git`. */
  gitbin?: string;
}

export interface GitPollerDescriptor extends GitPollerOptions {
  type: 'gitPoller';
}

export type ChangeSourceDescriptor = GitPollerDescriptor;

export type GitPollerBranches =
  { kind: 'list'; names: string[] } | { kind: 'all' } | { kind: 'match'; pattern: string };

export interface GitPollerConfig {
  type: 'gitPoller';
  name: string;
  repourl: string;
  branches: GitPollerBranches;
  onlyTags: boolean;
  /** Milliseconds. */
  pollInterval: number;
  pollAtLaunch: boolean;
  workdir: string;
  category: string | null;
  project: string;
  codebase: string;
  buildPushesWithNoCommits: boolean;
  usetimestamps: boolean;
  gitbin: string;
}

export type ChangeSourceConfig = GitPollerConfig;

// ---------------------------------------------------------------------------------------
// Change hooks (www.changeHooks)
// ---------------------------------------------------------------------------------------

export interface GitHubHookInput {
  /** Checked against `X-Hub-Signature-256` (HMAC-SHA256 of the body); 403 when it differs. */
  secret?: string | null;
  /** Refuse requests without a signature (default: true when a secret is set). */
  strict?: boolean;
  codebase?: string;
  /** Commit messages that skip CI (regular expressions); default `[ci skip]`, `[skip ci]`. */
  skips?: string[];
  /** The ref a pull request builds: `refs/pull/N/merge` (default) or `…/head`. */
  pullrequestRef?: 'merge' | 'head';
}

export interface GitLabHookInput {
  /** Compared with the `X-Gitlab-Token` header; 403 when it differs. */
  secret?: string | null;
  codebase?: string;
}

export interface BaseHookInput {
  /** HTTP Basic user and password a poster must send (`yardmaster sendchange --auth`). */
  auth?: { username: string; password: string } | null;
}

export interface ChangeHooksInput {
  github?: GitHubHookInput;
  gitlab?: GitLabHookInput;
  base?: BaseHookInput;
}

export interface GitHubHookConfig {
  secret: string | null;
  strict: boolean;
  codebase: string | null;
  skips: string[];
  pullrequestRef: 'merge' | 'head';
}

export interface GitLabHookConfig {
  secret: string | null;
  codebase: string | null;
}

export interface BaseHookConfig {
  auth: { username: string; password: string } | null;
}

/** `null`: that dialect is not served (404). */
export interface ChangeHooksConfig {
  github: GitHubHookConfig | null;
  gitlab: GitLabHookConfig | null;
  base: BaseHookConfig | null;
}

// ---------------------------------------------------------------------------------------
// Schedulers
// ---------------------------------------------------------------------------------------

export interface BaseSchedulerOptions {
  name: string;
  builderNames: string[];
  /** Properties of every build this scheduler starts (source `Scheduler`). */
  properties?: Properties;
  /** Codebases of its buildsets; default one, `''`. */
  codebases?: CodebasesInput;
  /** Priority of its build requests; default 0. */
  priority?: number;
}

export interface ChangeSchedulerOptions extends BaseSchedulerOptions {
  changeFilter?: ChangeFilterDescriptor | ChangeFilterInput;
  /** Wait until no change came for this long, then build them all at once; default: build each. */
  treeStableTimer?: DurationInput | null;
  fileIsImportant?: FileIsImportantInput | null;
  /** Leave unimportant changes out of the builds. */
  onlyImportant?: boolean;
  reason?: string;
}

export interface SingleBranchSchedulerOptions extends ChangeSchedulerOptions {
  /** The branch it follows (`null`: the default branch); or give `changeFilter`. */
  branch?: string | null;
}

export interface SingleBranchSchedulerDescriptor extends SingleBranchSchedulerOptions {
  type: 'singleBranch';
}

export interface AnyBranchSchedulerOptions extends ChangeSchedulerOptions {
  /** Only these branches (default: every branch); each branch is built on its own. */
  branches?: (string | null)[];
}

export interface AnyBranchSchedulerDescriptor extends AnyBranchSchedulerOptions {
  type: 'anyBranch';
}

export interface TimedSchedulerOptions extends BaseSchedulerOptions {
  /** Build only when an important change came since the last build. */
  onlyIfChanged?: boolean;
  /** Only changes on this branch count (`null`: the default branch). */
  branch?: string | null;
  changeFilter?: ChangeFilterDescriptor | ChangeFilterInput;
  fileIsImportant?: FileIsImportantInput | null;
  onlyImportant?: boolean;
  reason?: string;
}

export interface PeriodicSchedulerOptions extends TimedSchedulerOptions {
  periodicBuildTimer: DurationInput;
}

export interface PeriodicSchedulerDescriptor extends PeriodicSchedulerOptions {
  type: 'periodic';
}

/** A cron field: `'*'`, `5`, `'1-5'`, `'*\/15'`, `[0, 30]`, `'mon-fri'`. */
export type CronFieldInput = string | number | number[];

export interface NightlySchedulerOptions extends TimedSchedulerOptions {
  /** Five-field cron: `'0 3 * * *'`; or the fields below (Buildbot's), not both. */
  cron?: string;
  minute?: CronFieldInput;
  hour?: CronFieldInput;
  dayOfMonth?: CronFieldInput;
  month?: CronFieldInput;
  /** 0 = Monday, as Buildbot (in `cron`, 0 = Sunday as cron has it). */
  dayOfWeek?: CronFieldInput;
  /** Read the schedule in the master's local time (default) or UTC. */
  timezone?: 'local' | 'UTC';
}

export interface NightlySchedulerDescriptor extends NightlySchedulerOptions {
  type: 'nightly';
}

export interface TriggerableSchedulerOptions extends BaseSchedulerOptions {
  reason?: string | null;
}

export interface TriggerableSchedulerDescriptor extends TriggerableSchedulerOptions {
  type: 'triggerable';
}

export interface DependentSchedulerOptions extends BaseSchedulerOptions {
  /** The scheduler whose successful buildsets start this one's. */
  upstream: string;
}

export interface DependentSchedulerDescriptor extends DependentSchedulerOptions {
  type: 'dependent';
}

export interface BaseSchedulerConfig {
  name: string;
  builderNames: string[];
  properties: Properties;
  /** Codebase name → defaults, sorted by name. */
  codebases: Record<string, CodebaseConfig>;
  priority: number;
}

export interface ChangeSchedulerConfig extends BaseSchedulerConfig {
  changeFilter: ChangeFilterConfig;
  /** Milliseconds; null: build each change at once. */
  treeStableTimer: number | null;
  fileIsImportant: FileIsImportantConfig | null;
  onlyImportant: boolean;
  reason: string;
}

export interface SingleBranchSchedulerConfig extends ChangeSchedulerConfig {
  type: 'singleBranch';
}

export interface AnyBranchSchedulerConfig extends ChangeSchedulerConfig {
  type: 'anyBranch';
}

export interface TimedSchedulerConfig extends BaseSchedulerConfig {
  onlyIfChanged: boolean;
  changeFilter: ChangeFilterConfig;
  fileIsImportant: FileIsImportantConfig | null;
  onlyImportant: boolean;
  reason: string;
}

export interface PeriodicSchedulerConfig extends TimedSchedulerConfig {
  type: 'periodic';
  /** Milliseconds. */
  periodicBuildTimer: number;
}

export interface NightlySchedulerConfig extends TimedSchedulerConfig {
  type: 'nightly';
  /** Five-field cron, 0 = Sunday. */
  cron: string;
  timezone: 'local' | 'UTC';
}

export interface TriggerableSchedulerConfig extends BaseSchedulerConfig {
  type: 'triggerable';
  reason: string | null;
}

export interface DependentSchedulerConfig extends BaseSchedulerConfig {
  type: 'dependent';
  upstream: string;
}

// ---------------------------------------------------------------------------------------
// The trigger step
// ---------------------------------------------------------------------------------------

export interface TriggerSourceStampInput {
  codebase?: string;
  branch?: string | null;
  revision?: string | null;
  repository?: string;
  project?: string;
}

export interface TriggerOptions extends BuildStepOptions {
  /** `triggerable` schedulers to start. */
  schedulerNames: string[];
  /** Wait for the triggered builds; the step takes their worst result. */
  waitForFinish?: boolean;
  /** Build the latest sources (no source stamps) instead of this build's. */
  alwaysUseLatest?: boolean;
  /** Use this build's `got_revision` as the revision (default: true unless the two above). */
  updateSourceStamp?: boolean;
  /** Explicit source stamps instead of this build's. */
  sourceStamps?: TriggerSourceStampInput[];
  /** Properties of the triggered builds (source `Trigger`); values may be `interpolate(...)`. */
  setProperties?: Record<string, RenderableValue>;
  /** Properties of this build copied to the triggered builds. */
  copyProperties?: string[];
  /** Schedulers whose results do not count towards the step's. */
  unimportantSchedulerNames?: string[];
  parentRelationship?: string;
}

export interface TriggerDescriptor extends TriggerOptions {
  type: 'trigger';
}

export interface TriggerStepConfig extends BuildStepConfigBase {
  type: 'trigger';
  schedulerNames: string[];
  unimportantSchedulerNames: string[];
  waitForFinish: boolean;
  alwaysUseLatest: boolean;
  updateSourceStamp: boolean;
  sourceStamps: Required<TriggerSourceStampInput>[];
  setProperties: Record<string, RenderableValue>;
  copyProperties: string[];
  parentRelationship: string;
}

// ---------------------------------------------------------------------------------------
// The force scheduler's typed parameters (Buildbot's forcesched parameters)
// ---------------------------------------------------------------------------------------

export interface ForceParameterInputBase {
  name: string;
  label?: string;
  /** Label of a tab (`layout: 'tabs'`); default: `label`. */
  tablabel?: string;
  required?: boolean;
  /** Not shown in the form (the value is still checked and set). */
  hide?: boolean;
}

/**
 * A field of the force form; each sets the build property of its name. `string` is a
 * one-line text (Buildbot's `StringParameter`), `text` several lines (`TextParameter`),
 * `int`, `bool`, `choice` (`ChoiceStringParameter`), `fixed` (`FixedParameter`: not
 * editable) and `nested` (`NestedParameter`: a group, whose property is an object of its
 * fields, or whose fields are top-level properties when its name is `''`).
 */
export type ForceParameterInput =
  | (ForceParameterInputBase & {
      type: 'string';
      default?: string;
      /** The value must match (from its start, as Python's re.match). */
      regex?: string;
      maxsize?: number;
      size?: number;
    })
  | (ForceParameterInputBase & {
      type: 'text';
      default?: string;
      regex?: string;
      maxsize?: number;
      cols?: number;
      rows?: number;
    })
  | (ForceParameterInputBase & { type: 'int'; default?: number })
  | (ForceParameterInputBase & { type: 'bool'; default?: boolean })
  | (ForceParameterInputBase & {
      type: 'choice';
      choices: string[];
      default?: string | string[];
      /** Only values of `choices` (default true). */
      strict?: boolean;
      /** Several values: the property is a list. */
      multiple?: boolean;
    })
  | (ForceParameterInputBase & { type: 'fixed'; default: JsonValue })
  | (ForceParameterInputBase & {
      type: 'nested';
      layout?: 'vertical' | 'simple' | 'tabs';
      /** 1 to 4; default 2 with four visible fields or more, else 1. */
      columns?: number;
      fields: ForceParameterInput[];
    });

/**
 * A codebase of the force form (Buildbot's `CodebaseParameter`): each of `branch`,
 * `revision`, `repository` and `project` is a text field by default, a fixed value when
 * given as a string, left out when `null`, or any string-typed parameter.
 */
export type ForceCodebaseInput =
  | string
  | {
      codebase: string;
      label?: string;
      branch?: ForceParameterInput | string | null;
      revision?: ForceParameterInput | string | null;
      repository?: ForceParameterInput | string | null;
      project?: ForceParameterInput | string | null;
    };

export interface ForceSchedulerOptions {
  name: string;
  builderNames: string[];
  /** Default text of the form's reason field. */
  reason?: string;
  /** The buildset's reason: `%(owner)s` and `%(reason)s` are replaced. */
  reasonString?: string;
  /** Shown as the form's title; default: the name. */
  label?: string;
  /** The form's button; default: the name. */
  buttonName?: string;
  /** Codebases of the form (default: one, `''`, with branch, revision, repository, project). */
  codebases?: ForceCodebaseInput[];
  /** Extra form fields; each becomes a build property. */
  properties?: ForceParameterInput[];
}

export interface ForceSchedulerDescriptor extends ForceSchedulerOptions {
  type: 'force';
}

export interface ForceParameterBase {
  name: string;
  label: string;
  tablabel: string;
  required: boolean;
  hide: boolean;
}

export type ForceParameter =
  | (ForceParameterBase & {
      type: 'string';
      default: string;
      regex: string | null;
      maxsize: number | null;
      size: number;
    })
  | (ForceParameterBase & {
      type: 'text';
      default: string;
      regex: string | null;
      maxsize: number | null;
      cols: number;
      rows: number;
    })
  | (ForceParameterBase & { type: 'int'; default: number })
  | (ForceParameterBase & { type: 'bool'; default: boolean })
  | (ForceParameterBase & {
      type: 'choice';
      choices: string[];
      default: string | string[];
      strict: boolean;
      multiple: boolean;
    })
  | (ForceParameterBase & { type: 'fixed'; default: JsonValue })
  | (ForceParameterBase & {
      type: 'nested';
      layout: 'vertical' | 'simple' | 'tabs';
      columns: number;
      fields: ForceParameter[];
    });

export interface ForceCodebaseConfig {
  codebase: string;
  /** The group's label (`''` for the default codebase). */
  label: string;
  /** Its fields, of branch, project, repository, revision (in that order). */
  fields: ForceParameter[];
}

export interface ForceSchedulerConfig {
  type: 'force';
  name: string;
  builderNames: string[];
  reason: string;
  reasonString: string;
  label: string;
  buttonName: string;
  codebases: ForceCodebaseConfig[];
  properties: ForceParameter[];
}
