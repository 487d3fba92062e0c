/**
 * The two shapes of a master configuration:
 *
 * - the *descriptors* a `master.config.ts` builds with `defineConfig` and the factories
 *   (`worker`, `builder`, `shellCommand` …): plain tagged objects, optional fields left out;
 * - the *normalized* `MasterConfig` that `validateConfig` returns: every default filled in,
 *   durations in milliseconds, `null` (never `undefined`) for "not set", so that two
 *   configs can be compared with a deep equality (or `JSON.stringify`) for a reload.
 */

import type {
  AnyBranchSchedulerConfig,
  AnyBranchSchedulerDescriptor,
  ChangeHooksConfig,
  ChangeHooksInput,
  ChangeSourceConfig,
  ChangeSourceDescriptor,
  DependentSchedulerConfig,
  DependentSchedulerDescriptor,
  ForceSchedulerConfig,
  ForceSchedulerDescriptor,
  NightlySchedulerConfig,
  NightlySchedulerDescriptor,
  PeriodicSchedulerConfig,
  PeriodicSchedulerDescriptor,
  SingleBranchSchedulerConfig,
  SingleBranchSchedulerDescriptor,
  TriggerableSchedulerConfig,
  TriggerableSchedulerDescriptor,
  TriggerDescriptor,
  TriggerStepConfig,
} from './change-types.js';

export type * from './change-types.js';

/** A value that survives `JSON.stringify` unchanged: what properties may hold. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Build properties: name → JSON value. */
export type Properties = Record<string, JsonValue>;

/**
 * A duration as a config file writes it: a number of seconds (`30`, `0.5`) or a string
 * with units `ms`, `s`, `m`, `h`, `d` (`"500ms"`, `"30s"`, `"5m"`, `"1h30m"`).
 * Normalized to milliseconds.
 */
export type DurationInput = number | string;

/**
 * A string computed when the step starts, from the build's properties and source stamp:
 * Buildbot's `util.Interpolate`. Made by `interpolate('...')`; a plain descriptor, so it
 * stays in the normalized config as it is (the format is checked, not rendered).
 */
export interface InterpolateDescriptor {
  type: 'interpolate';
  /** `%(prop:name)s`, `%(src::branch)s`, `%%` …; see docs/config.md. */
  format: string;
}

/**
 * A function tagged by `renderer(fn)`: a value computed from the running build (Buildbot's
 * `@util.renderer`), or a hook the master calls (`nextWorker`, `collapseRequests` …). A
 * config stays comparable for a reload: `JSON.stringify` keeps `{ type, source }` and drops
 * the function, so two renderers are "the same" when their source text is.
 */
export interface RendererDescriptor<
  F extends (...args: never[]) => unknown = (...args: never[]) => unknown,
> {
  type: 'renderer';
  /** The function's source text (`fn.toString()`): what a reload compares. */
  source: string;
  fn: F;
}

/** What a `renderer(fn)` used as a value is called with: the build's properties. */
export interface RenderProperties {
  /** The property's value, or `defaultValue` when it is not set. */
  getProperty(name: string, defaultValue?: unknown): unknown;
  hasProperty(name: string): boolean;
  /** Every property: name → value. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** A `renderer(fn)` used as a value: called with the build's properties. */
export type ValueRendererFn = (props: RenderProperties) => unknown;

/** `doStepIf: renderer((props) => …)`: run the step when truthy. */
export type DoStepIfFn = (props: RenderProperties) => unknown;

/** `hideStepIf: renderer((props, results) => …)`: hide the finished step when truthy. */
export type HideStepIfFn = (props: RenderProperties, results: number) => unknown;

/** A string, or one rendered at step start (`interpolate(...)`, `renderer(fn)`). */
export type RenderableString = string | InterpolateDescriptor | RendererDescriptor<ValueRendererFn>;

/** A JSON value, or one rendered at step start (`interpolate(...)`, `renderer(fn)`). */
export type RenderableValue =
  JsonValue | InterpolateDescriptor | RendererDescriptor<ValueRendererFn>;

/** A boolean, or one computed by `renderer(fn)` when it is needed. */
export type RenderableBoolean<F extends (...args: never[]) => unknown = DoStepIfFn> =
  boolean | RendererDescriptor<F>;

// ---------------------------------------------------------------------------------------
// Locks (Buildbot's util.MasterLock / util.WorkerLock and lock.access(mode))
// ---------------------------------------------------------------------------------------

export type LockMode = 'exclusive' | 'counting';

export interface MasterLockDescriptor {
  type: 'masterLock';
  name: string;
  /** Holders at once in counting mode; default 1. */
  maxCount?: number;
}

export interface WorkerLockDescriptor {
  type: 'workerLock';
  name: string;
  /** Holders at once per worker in counting mode; default 1. */
  maxCount?: number;
  /** Per-worker overrides of `maxCount`: `{ 'big-box': 4 }`. */
  maxCountForWorker?: Record<string, number>;
}

export type LockDescriptor = MasterLockDescriptor | WorkerLockDescriptor;

/** How a builder or step takes a lock: `lock.access('exclusive')`. */
export interface LockAccessDescriptor {
  type: 'lockAccess';
  lock: LockDescriptor;
  mode: LockMode;
  /** Units taken in counting mode (Buildbot's `count`); default 1. */
  count?: number;
}

/** What `masterLock()` / `workerLock()` return: the lock, plus `access(mode)`. */
export interface LockAccessor {
  access(mode: LockMode, count?: number): LockAccessDescriptor;
}

/** In `locks: [...]`: `lock.access(mode)`, or a bare lock (counting, as Buildbot's default). */
export type LockUse = LockAccessDescriptor | LockDescriptor;

// ---------------------------------------------------------------------------------------
// Secrets and hook arguments
// ---------------------------------------------------------------------------------------

/** Where `%(secret:NAME)s` is read from. */
export type SecretsProviderInput =
  | {
      /** Environment variables: NAME (after `prefix`). */
      provider: 'env';
      /** Prepended to the secret's name: `{ prefix: 'CI_SECRET_' }` reads CI_SECRET_NAME. */
      prefix?: string;
    }
  | {
      /** One file per secret in `dir`, named as the secret; a trailing newline is dropped. */
      provider: 'files';
      /** Relative to the master's basedir. */
      dir: string;
    };

/** A builder as hooks see it. */
export interface HookBuilder {
  name: string;
  builderid: number;
}

/** A worker as `nextWorker` / `canStartBuild` see it. */
export interface HookWorker {
  name: string;
  runningBuilds: number;
  maxBuilds: number | null;
  /** What the worker said about itself when it attached (os_id, numcpus, …). */
  info: Readonly<Record<string, unknown>>;
}

/** A pending build request as hooks see it. */
export interface HookBuildRequest {
  buildrequestid: number;
  buildsetid: number;
  priority: number;
  /** Epoch seconds. */
  submittedAt: number | null;
  /** The buildset's properties: name → value. */
  properties: Readonly<Record<string, unknown>>;
  sourcestamps: readonly {
    codebase: string;
    repository: string;
    branch: string | null;
    revision: string | null;
    project: string;
  }[];
}

/** `collapseRequests: renderer((builder, request, other) => …)`: may `other` join `request`'s build? */
export type CollapseRequestsFn = (
  builder: HookBuilder,
  request: HookBuildRequest,
  other: HookBuildRequest,
) => boolean | Promise<boolean>;

/** `nextWorker`: which of the free workers runs `request` (a name, one of `workers`, or null). */
export type NextWorkerFn = (
  builder: HookBuilder,
  workers: HookWorker[],
  request: HookBuildRequest,
) => HookWorker | string | null | undefined | Promise<HookWorker | string | null | undefined>;

/** `nextBuild`: which pending request starts next (one of `requests`, or null for none). */
export type NextBuildFn = (
  builder: HookBuilder,
  requests: HookBuildRequest[],
) =>
  | HookBuildRequest
  | number
  | null
  | undefined
  | Promise<HookBuildRequest | number | null | undefined>;

/** `canStartBuild`: may `worker` run `request` now? */
export type CanStartBuildFn = (
  builder: HookBuilder,
  worker: HookWorker,
  request: HookBuildRequest,
) => boolean | Promise<boolean>;

export type GitMode = 'incremental' | 'full';
export type GitMethod = 'clobber' | 'fresh' | 'clean' | 'copy';

// ---------------------------------------------------------------------------------------
// Descriptors: what a config file writes
// ---------------------------------------------------------------------------------------

export interface WorkerOptions {
  /** Password the worker sends (HTTP Basic) when it connects. */
  password: string;
  /** At most this many builds at once on this worker; default: no limit. */
  maxBuilds?: number | null;
  /** Properties set on every build that runs on this worker. */
  properties?: Properties;
}

export interface WorkerDescriptor extends WorkerOptions {
  type: 'worker';
  name: string;
}

/** Kubernetes resource quantities per resource name: `{ cpu: '500m', memory: '1Gi' }`. */
export type KubernetesResourceList = Record<string, string | number>;

/** A pod toleration, as in the Kubernetes API. */
export interface KubernetesToleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** A container volume mount, as in the Kubernetes API. */
export interface KubernetesVolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface KubernetesLatentWorkerOptions {
  /** The worker image: runs `yardmaster-worker` (or `yardmaster worker`) as its command. */
  image: string;
  /** Where pods are created; default: the master's own namespace (in a cluster), else the kubeconfig's. */
  namespace?: string | null;
  /** host:port the pods connect to: the masters' Service, e.g. "yardmaster:9989". */
  masterAddress: string;
  /** At most this many pods at once (starting, idle or busy). */
  maxPods: number;
  /** Pods kept started and idle while nothing is pending (a warm pool); default 0. */
  minIdle?: number;
  /** An idle pod beyond the warm pool is deleted after this long; default "5m". */
  idleTimeout?: DurationInput;
  /** Container requests and limits. */
  resources?: { requests?: KubernetesResourceList; limits?: KubernetesResourceList };
  /** Extra environment variables of the worker container. */
  env?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: KubernetesToleration[];
  /** Pod volumes, as in the Kubernetes API (`{ name, emptyDir: {} }`, `{ name, secret: … }` …). */
  volumes?: Record<string, JsonValue>[];
  volumeMounts?: KubernetesVolumeMount[];
  serviceAccountName?: string | null;
  /** How long a pod may stay Unschedulable before its build request fails; default "5m". */
  unschedulableDeadline?: DurationInput;
  /** Kubernetes ends a pod after this many seconds whatever it does; default 86400 (1 day). */
  activeDeadlineSeconds?: number;
  /** A kubeconfig file; default: $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string | null;
  /** Use the pod's service account (the master runs in the cluster). */
  inCluster?: boolean;
  /** Properties set on every build that runs on one of these pods. */
  properties?: Properties;
}

export interface KubernetesLatentWorkerDescriptor extends KubernetesLatentWorkerOptions {
  type: 'kubernetesLatentWorker';
  name: string;
}

/** Options of every step (Buildbot's `BuildStep`). */
export interface BuildStepOptions {
  name?: string;
  /** Text shown while the step runs. */
  description?: string | null;
  /** Text shown once the step has finished. */
  descriptionDone?: string | null;
  /** Stop the build when this step fails. */
  haltOnFailure?: boolean;
  /** Mark the build as failed when this step fails. */
  flunkOnFailure?: boolean;
  /** Mark the build with warnings when this step fails. */
  warnOnFailure?: boolean;
  /** Mark the build with warnings when this step has warnings (Buildbot's default: no). */
  warnOnWarnings?: boolean;
  /** Mark the build as failed when this step has warnings. */
  flunkOnWarnings?: boolean;
  /** Run this step even when an earlier step halted the build. */
  alwaysRun?: boolean;
  /** Run the step only if true; `renderer((props) => …)` decides when the step is reached. */
  doStepIf?: RenderableBoolean;
  /** Hide the finished step in the UI; `renderer((props, results) => …)` decides at its end. */
  hideStepIf?: RenderableBoolean<HideStepIfFn>;
  /** Locks held while the step runs: `[lock.access('exclusive')]`. */
  locks?: LockUse[];
}

/** Options of steps that run a command on the worker (remote-command arguments too). */
export interface StepOptions extends BuildStepOptions {
  /** Directory on the worker, relative to the builder's directory. */
  workdir?: string;
  /** Extra environment variables for the command (values may be `interpolate(...)`). */
  env?: Record<string, RenderableString>;
  /** Kill the command after this long without output; `null`: never. */
  timeout?: DurationInput | null;
  /** Kill the command after this long in total; `null`: never. */
  maxTime?: DurationInput | null;
  /** Write the command's environment at the top of its log. */
  logEnviron?: boolean;
}

/** A file on the worker watched while a command runs: its lines go to a log of their own. */
export type LogfileInput = string | { filename: string; follow?: boolean };

export interface ShellCommandOptions extends StepOptions {
  /**
   * A string runs through `/bin/sh -c`; a list runs the program directly. Either (or any
   * element of the list) may be `interpolate('...')`, rendered when the step starts.
   */
  command: RenderableString | RenderableString[];
  wantStdout?: boolean;
  wantStderr?: boolean;
  /** Files on the worker (relative to `workdir`) shown as extra logs: log name → file. */
  logfiles?: Record<string, LogfileInput>;
  /**
   * Count the output lines that match this regular expression (JavaScript syntax, matched
   * from the start of each line, as Python's `re.match`); any → the step has WARNINGS.
   * `true`: Buildbot's default pattern, `(?i).*warning[: ].*`.
   */
  warningPattern?: string | true | null;
  /** More warnings than this → FAILURE. */
  maxWarnCount?: number | null;
}

export interface ShellCommandDescriptor extends ShellCommandOptions {
  type: 'shellCommand';
}

export interface GitOptions extends StepOptions {
  repourl: string;
  branch?: string;
  mode?: GitMode;
  /** Only with `mode: 'full'`. */
  method?: GitMethod;
  submodules?: boolean;
  /** `true` (depth 1) or a depth; only with `mode: 'full'` and `method: 'clobber'`. */
  shallow?: boolean | number;
  retryFetch?: boolean;
  clobberOnFailure?: boolean;
}

export interface GitDescriptor extends GitOptions {
  type: 'git';
}

/** One command of a `shellSequence` (Buildbot's `util.ShellArg`). */
export interface ShellArgInput {
  command: RenderableString | RenderableString[];
  /** Log for this command's output; default `stdio` (shared). */
  logname?: string;
  haltOnFailure?: boolean;
  flunkOnFailure?: boolean;
  warnOnFailure?: boolean;
  warnOnWarnings?: boolean;
  flunkOnWarnings?: boolean;
}

export interface ShellSequenceOptions extends StepOptions {
  commands: ShellArgInput[];
}

export interface ShellSequenceDescriptor extends ShellSequenceOptions {
  type: 'shellSequence';
}

export interface SetPropertyOptions extends BuildStepOptions {
  property: string;
  value: RenderableValue;
}

export interface SetPropertyDescriptor extends SetPropertyOptions {
  type: 'setProperty';
}

/** `extractFn: renderer((rc, stdout, stderr) => ({ name: value }))`. */
export type ExtractPropertiesFn = (
  rc: number,
  stdout: string,
  stderr: string,
) => Record<string, JsonValue> | Promise<Record<string, JsonValue>>;

export interface SetPropertyFromCommandOptions extends StepOptions {
  command: RenderableString | RenderableString[];
  /** The property set to the command's output; or use `extractFn`. */
  property?: string;
  /** Computes properties from rc, stdout and stderr; or use `property`. */
  extractFn?: RendererDescriptor<ExtractPropertiesFn>;
  /** Strip white space around the output; default true. */
  strip?: boolean;
  includeStdout?: boolean;
  includeStderr?: boolean;
}

export interface SetPropertyFromCommandDescriptor extends SetPropertyFromCommandOptions {
  type: 'setPropertyFromCommand';
}

/** Options of the transfer steps (no command environment, timeouts or env). */
export interface TransferStepOptions extends BuildStepOptions {
  /** Directory on the worker, relative to the builder's directory. */
  workdir?: string;
  /** Bytes per block on the wire. */
  blocksize?: number;
  /** Refuse more than this many bytes; `null`: no limit. */
  maxsize?: number | null;
}

export interface FileUploadOptions extends TransferStepOptions {
  /** File on the worker, relative to `workdir`. */
  workersrc: RenderableString;
  /** Where the master stores it, relative to its basedir. */
  masterdest: RenderableString;
  /** File mode of the stored file, e.g. 0o644; `null`: the default. */
  mode?: number | null;
  /** Keep the file's access and modification times. */
  keepstamp?: boolean;
  /** A link shown on the step. */
  url?: string | null;
  urlText?: string | null;
}

export interface FileUploadDescriptor extends FileUploadOptions {
  type: 'fileUpload';
}

export interface DirectoryUploadOptions extends TransferStepOptions {
  workersrc: RenderableString;
  masterdest: RenderableString;
  /** Compression on the wire: `'gz'` or `null`. */
  compress?: 'gz' | null;
  url?: string | null;
  urlText?: string | null;
}

export interface DirectoryUploadDescriptor extends DirectoryUploadOptions {
  type: 'directoryUpload';
}

export interface FileDownloadOptions extends TransferStepOptions {
  /** File on the master, relative to its basedir. */
  mastersrc: RenderableString;
  /** Where the worker stores it, relative to `workdir`. */
  workerdest: RenderableString;
  mode?: number | null;
}

export interface FileDownloadDescriptor extends FileDownloadOptions {
  type: 'fileDownload';
}

export interface StringDownloadOptions extends TransferStepOptions {
  /** The text written to the file. */
  s: RenderableString;
  workerdest: RenderableString;
  mode?: number | null;
}

export interface StringDownloadDescriptor extends StringDownloadOptions {
  type: 'stringDownload';
}

export interface DirectoryStepOptions extends BuildStepOptions {
  /** Directory on the worker, relative to the builder's directory. */
  dir: RenderableString;
}

export interface MakeDirectoryDescriptor extends DirectoryStepOptions {
  type: 'makeDirectory';
}

export interface RemoveDirectoryDescriptor extends DirectoryStepOptions {
  type: 'removeDirectory';
}

export interface MasterShellCommandOptions extends BuildStepOptions {
  /** Runs on the master: a string through `/bin/sh -c`, a list directly. */
  command: RenderableString | RenderableString[];
  /** Extra environment variables. */
  env?: Record<string, RenderableString>;
  /** Directory on the master, relative to its basedir; default: the basedir. */
  workdir?: string | null;
  /** Kill the command after this long in total; `null`: never. */
  maxTime?: DurationInput | null;
}

export interface MasterShellCommandDescriptor extends MasterShellCommandOptions {
  type: 'masterShellCommand';
}

export type StepDescriptor =
  | ShellCommandDescriptor
  | GitDescriptor
  | ShellSequenceDescriptor
  | SetPropertyDescriptor
  | SetPropertyFromCommandDescriptor
  | FileUploadDescriptor
  | DirectoryUploadDescriptor
  | FileDownloadDescriptor
  | StringDownloadDescriptor
  | MakeDirectoryDescriptor
  | RemoveDirectoryDescriptor
  | MasterShellCommandDescriptor
  | TriggerDescriptor;

export interface BuildFactoryDescriptor {
  type: 'buildFactory';
  steps: StepDescriptor[];
}

export interface BuilderOptions {
  name: string;
  workerNames: string[];
  factory: BuildFactoryDescriptor;
  tags?: string[];
  description?: string | null;
  /**
   * Merge pending build requests into one build; default: the global `collapseRequests`.
   * `renderer((builder, request, other) => boolean)` decides per pair instead.
   */
  collapseRequests?: boolean | RendererDescriptor<CollapseRequestsFn>;
  properties?: Properties;
  /** Builders with a higher priority get free workers first. */
  priority?: number;
  /** Locks held for the whole build, taken before it starts: `[lock.access('counting')]`. */
  locks?: LockUse[];
  /** Picks the worker among the free ones (default: the least busy). */
  nextWorker?: RendererDescriptor<NextWorkerFn> | null;
  /** Picks the next request to start (default: the first in priority order). */
  nextBuild?: RendererDescriptor<NextBuildFn> | null;
  /** Vetoes a worker for a request (checked after the locks). */
  canStartBuild?: RendererDescriptor<CanStartBuildFn> | null;
}

export interface BuilderDescriptor extends BuilderOptions {
  type: 'builder';
}

export type SchedulerDescriptor =
  | ForceSchedulerDescriptor
  | SingleBranchSchedulerDescriptor
  | AnyBranchSchedulerDescriptor
  | PeriodicSchedulerDescriptor
  | NightlySchedulerDescriptor
  | TriggerableSchedulerDescriptor
  | DependentSchedulerDescriptor;

/** Options every reporter accepts. */
export interface ReporterOptions {
  /** Report only builds of these builders; default: all. */
  builders?: string[] | null;
  /** Attempts after the first when the server fails (5xx, 429, network error); default 3. */
  retries?: number;
  /** Wait before the first retry, doubled each time; default "1s". */
  retryDelay?: DurationInput;
  /** Give up on one attempt after this long; default "10s". */
  timeout?: DurationInput;
}

export interface HttpStatusPushOptions extends ReporterOptions {
  /** Where the build's JSON is POSTed, when it starts and when it ends. */
  serverUrl: RenderableString;
  /** Extra request headers; values may be `interpolate('%(secret:…)s')`. */
  headers?: Record<string, RenderableString>;
  /** HTTP Basic authentication. */
  auth?: { user: string; password: RenderableString } | null;
  /** Include the build's properties; default true. */
  wantProperties?: boolean;
  /** Include the build's steps; default false. */
  wantSteps?: boolean;
}

export interface HttpStatusPushDescriptor extends HttpStatusPushOptions {
  type: 'httpStatusPush';
}

export interface CommitStatusOptions extends ReporterOptions {
  /** API token, best `interpolate('%(secret:github_token)s')`. */
  token: RenderableString;
  /** API root; default https://api.github.com (GitHub) or https://gitlab.com (GitLab). */
  baseURL?: string;
  /** The status's name; default `interpolate('buildbot/%(prop:buildername)s')`. */
  context?: RenderableString;
}

export interface GitHubStatusPushDescriptor extends CommitStatusOptions {
  type: 'gitHubStatusPush';
}

export interface GitLabStatusPushDescriptor extends CommitStatusOptions {
  type: 'gitLabStatusPush';
}

export type ReporterDescriptor =
  HttpStatusPushDescriptor | GitHubStatusPushDescriptor | GitLabStatusPushDescriptor;

/** What `defineConfig` accepts: the default export of a `master.config.ts`. */
export interface MasterConfigInput {
  title?: string;
  workers?: (WorkerDescriptor | KubernetesLatentWorkerDescriptor)[];
  builders?: BuilderDescriptor[];
  schedulers?: SchedulerDescriptor[];
  /** Change sources: `gitPoller(...)`. */
  changeSources?: ChangeSourceDescriptor[];
  db?: { url?: string | null };
  /** `changeHooks`: the `/change_hook/<dialect>` receivers to serve (none by default). */
  www?: { port?: number; host?: string; changeHooks?: ChangeHooksInput };
  workerPort?: number;
  workerHost?: string;
  collapseRequests?: boolean | RendererDescriptor<CollapseRequestsFn>;
  properties?: Properties;
  /** Where `%(secret:NAME)s` is read from; default: nowhere (a secret is an error). */
  secrets?: SecretsProviderInput | null;
  /** Status reporters: `httpStatusPush`, `gitHubStatusPush`, `gitLabStatusPush`. */
  reporters?: ReporterDescriptor[];
  /** The web UI's public URL, for links in reports; default: the web port's address. */
  buildbotURL?: string | null;
}

// ---------------------------------------------------------------------------------------
// Normalized: what validateConfig returns
// ---------------------------------------------------------------------------------------

export interface MasterConfig {
  title: string;
  workers: WorkerConfig[];
  /** The `kubernetesLatentWorker`s of `workers`, in config order. */
  latentWorkers: KubernetesLatentWorkerConfig[];
  builders: BuilderConfig[];
  schedulers: SchedulerConfig[];
  changeSources: ChangeSourceConfig[];
  db: DbConfig;
  www: WwwConfig;
  /** Port of the worker protocol (WebSocket). */
  workerPort: number;
  workerHost: string;
  /** Default of every builder's `collapseRequests`. */
  collapseRequests: boolean | RendererDescriptor<CollapseRequestsFn>;
  /** Properties set on every build. */
  properties: Properties;
  /** `null`: no secrets provider. */
  secrets: SecretsConfig | null;
  reporters: ReporterConfig[];
  /** `null`: the web port's own address. */
  buildbotURL: string | null;
}

export type SecretsConfig =
  { provider: 'env'; prefix: string } | { provider: 'files'; dir: string };

export interface MasterLockConfig {
  type: 'masterLock';
  name: string;
  maxCount: number;
}

export interface WorkerLockConfig {
  type: 'workerLock';
  name: string;
  maxCount: number;
  maxCountForWorker: Record<string, number>;
}

export type LockConfig = MasterLockConfig | WorkerLockConfig;

export interface LockAccessConfig {
  type: 'lockAccess';
  lock: LockConfig;
  mode: LockMode;
  count: number;
}

export interface ReporterConfigBase {
  /** `null`: every builder. */
  builders: string[] | null;
  retries: number;
  /** Milliseconds. */
  retryDelay: number;
  /** Milliseconds. */
  timeout: number;
}

export interface HttpStatusPushConfig extends ReporterConfigBase {
  type: 'httpStatusPush';
  serverUrl: RenderableString;
  headers: Record<string, RenderableString>;
  auth: { user: string; password: RenderableString } | null;
  wantProperties: boolean;
  wantSteps: boolean;
}

export interface CommitStatusConfig extends ReporterConfigBase {
  token: RenderableString;
  baseURL: string;
  context: RenderableString;
}

export interface GitHubStatusPushConfig extends CommitStatusConfig {
  type: 'gitHubStatusPush';
}

export interface GitLabStatusPushConfig extends CommitStatusConfig {
  type: 'gitLabStatusPush';
}

export type ReporterConfig = HttpStatusPushConfig | GitHubStatusPushConfig | GitLabStatusPushConfig;

export interface DbConfig {
  /** `null`: the master uses `sqlite:///<basedir>/state.sqlite`. */
  url: string | null;
}

export interface WwwConfig {
  port: number;
  host: string;
  changeHooks: ChangeHooksConfig;
}

export interface WorkerConfig {
  type: 'worker';
  name: string;
  password: string;
  /** `null`: no limit. */
  maxBuilds: number | null;
  properties: Properties;
}

export interface KubernetesLatentWorkerConfig {
  type: 'kubernetesLatentWorker';
  name: string;
  image: string;
  /** `null`: the master's namespace (in a cluster) or the kubeconfig context's. */
  namespace: string | null;
  masterAddress: string;
  maxPods: number;
  minIdle: number;
  /** Milliseconds. */
  idleTimeout: number;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  env: Record<string, string>;
  nodeSelector: Record<string, string>;
  tolerations: KubernetesToleration[];
  volumes: Record<string, JsonValue>[];
  volumeMounts: KubernetesVolumeMount[];
  serviceAccountName: string | null;
  /** Milliseconds. */
  unschedulableDeadline: number;
  activeDeadlineSeconds: number;
  kubeconfig: string | null;
  inCluster: boolean;
  properties: Properties;
}

export interface BuilderConfig {
  type: 'builder';
  name: string;
  workerNames: string[];
  factory: BuildFactoryConfig;
  tags: string[];
  description: string | null;
  collapseRequests: boolean | RendererDescriptor<CollapseRequestsFn>;
  properties: Properties;
  priority: number;
  locks: LockAccessConfig[];
  nextWorker: RendererDescriptor<NextWorkerFn> | null;
  nextBuild: RendererDescriptor<NextBuildFn> | null;
  canStartBuild: RendererDescriptor<CanStartBuildFn> | null;
}

export interface BuildFactoryConfig {
  type: 'buildFactory';
  /** Step names are unique within a factory (duplicates get `_1`, `_2` … as in Buildbot). */
  steps: StepConfig[];
}

/** What every step has (Buildbot's `BuildStep`). */
export interface BuildStepConfigBase {
  name: string;
  description: string | null;
  descriptionDone: string | null;
  haltOnFailure: boolean;
  flunkOnFailure: boolean;
  warnOnFailure: boolean;
  warnOnWarnings: boolean;
  flunkOnWarnings: boolean;
  alwaysRun: boolean;
  doStepIf: RenderableBoolean;
  hideStepIf: RenderableBoolean<HideStepIfFn>;
  locks: LockAccessConfig[];
}

export interface StepConfigBase extends BuildStepConfigBase {
  workdir: string;
  env: Record<string, RenderableString>;
  /** Milliseconds without output before the command is killed; `null`: never. */
  timeout: number | null;
  /** Milliseconds in total before the command is killed; `null`: never. */
  maxTime: number | null;
  logEnviron: boolean;
}

export interface ShellCommandStepConfig extends StepConfigBase {
  type: 'shellCommand';
  command: RenderableString | RenderableString[];
  wantStdout: boolean;
  wantStderr: boolean;
  logfiles: Record<string, { filename: string; follow: boolean }>;
  /** `null`: no warning counting. */
  warningPattern: string | null;
  maxWarnCount: number | null;
}

export interface GitStepConfig extends StepConfigBase {
  type: 'git';
  repourl: string;
  branch: string;
  mode: GitMode;
  /** `null` in mode `incremental`; `'fresh'` by default in mode `full`. */
  method: GitMethod | null;
  submodules: boolean;
  /** Clone depth; `null`: a full clone. */
  shallow: number | null;
  retryFetch: boolean;
  clobberOnFailure: boolean;
}

export interface ShellArgConfig {
  command: RenderableString | RenderableString[];
  /** `null`: the step's `stdio` log. */
  logname: string | null;
  haltOnFailure: boolean;
  flunkOnFailure: boolean;
  warnOnFailure: boolean;
  warnOnWarnings: boolean;
  flunkOnWarnings: boolean;
}

export interface ShellSequenceStepConfig extends StepConfigBase {
  type: 'shellSequence';
  commands: ShellArgConfig[];
}

export interface SetPropertyStepConfig extends BuildStepConfigBase {
  type: 'setProperty';
  property: string;
  value: RenderableValue;
}

export interface SetPropertyFromCommandStepConfig extends StepConfigBase {
  type: 'setPropertyFromCommand';
  command: RenderableString | RenderableString[];
  property: string | null;
  extractFn: RendererDescriptor<ExtractPropertiesFn> | null;
  strip: boolean;
  includeStdout: boolean;
  includeStderr: boolean;
}

export interface TransferStepConfigBase extends BuildStepConfigBase {
  workdir: string;
  blocksize: number;
  maxsize: number | null;
}

export interface FileUploadStepConfig extends TransferStepConfigBase {
  type: 'fileUpload';
  workersrc: RenderableString;
  masterdest: RenderableString;
  mode: number | null;
  keepstamp: boolean;
  url: string | null;
  urlText: string | null;
}

export interface DirectoryUploadStepConfig extends TransferStepConfigBase {
  type: 'directoryUpload';
  workersrc: RenderableString;
  masterdest: RenderableString;
  compress: 'gz' | null;
  url: string | null;
  urlText: string | null;
}

export interface FileDownloadStepConfig extends TransferStepConfigBase {
  type: 'fileDownload';
  mastersrc: RenderableString;
  workerdest: RenderableString;
  mode: number | null;
}

export interface StringDownloadStepConfig extends TransferStepConfigBase {
  type: 'stringDownload';
  s: RenderableString;
  workerdest: RenderableString;
  mode: number | null;
}

export interface MakeDirectoryStepConfig extends BuildStepConfigBase {
  type: 'makeDirectory';
  dir: RenderableString;
}

export interface RemoveDirectoryStepConfig extends BuildStepConfigBase {
  type: 'removeDirectory';
  dir: RenderableString;
}

export interface MasterShellCommandStepConfig extends BuildStepConfigBase {
  type: 'masterShellCommand';
  command: RenderableString | RenderableString[];
  env: Record<string, RenderableString>;
  workdir: string | null;
  /** Milliseconds; `null`: never. */
  maxTime: number | null;
}

export type StepConfig =
  | ShellCommandStepConfig
  | GitStepConfig
  | ShellSequenceStepConfig
  | SetPropertyStepConfig
  | SetPropertyFromCommandStepConfig
  | FileUploadStepConfig
  | DirectoryUploadStepConfig
  | FileDownloadStepConfig
  | StringDownloadStepConfig
  | MakeDirectoryStepConfig
  | RemoveDirectoryStepConfig
  | MasterShellCommandStepConfig
  | TriggerStepConfig;

export type SchedulerConfig =
  | ForceSchedulerConfig
  | SingleBranchSchedulerConfig
  | AnyBranchSchedulerConfig
  | PeriodicSchedulerConfig
  | NightlySchedulerConfig
  | TriggerableSchedulerConfig
  | DependentSchedulerConfig;
