/**
 * The two shapes of a master configuration:
 *
 * - the *descriptors* a `master.config.ts` builds with `defineConfig` and the factories
 *   (`worker`, `builder`, `shellCommand` …): plain tagged objects, optional fields left out;
 * - the *normalized* `MasterConfig` that `validateConfig` returns: every default filled in,
 *   durations in milliseconds, `null` (never `undefined`) for "not set", so that two
 *   configs can be compared with a deep equality (or `JSON.stringify`) for a reload.
 */

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

/** A string, or one rendered at step start. */
export type RenderableString = string | InterpolateDescriptor;

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

/** Options every step accepts (Buildbot's `BuildStep` and remote-command arguments). */
export interface StepOptions {
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
  /** Run this step even when an earlier step halted the build. */
  alwaysRun?: boolean;
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

export interface ShellCommandOptions extends StepOptions {
  /**
   * A string runs through `/bin/sh -c`; a list runs the program directly. Either (or any
   * element of the list) may be `interpolate('...')`, rendered when the step starts.
   */
  command: RenderableString | RenderableString[];
  wantStdout?: boolean;
  wantStderr?: boolean;
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

export type StepDescriptor = ShellCommandDescriptor | GitDescriptor;

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
  /** Merge pending build requests into one build; default: the global `collapseRequests`. */
  collapseRequests?: boolean;
  properties?: Properties;
  /** Builders with a higher priority get free workers first. */
  priority?: number;
}

export interface BuilderDescriptor extends BuilderOptions {
  type: 'builder';
}

export interface ForceParameterInputBase {
  name: string;
  label?: string;
  required?: boolean;
}

export type ForceParameterInput =
  | (ForceParameterInputBase & { type: 'string'; default?: string })
  | (ForceParameterInputBase & { type: 'int'; default?: number })
  | (ForceParameterInputBase & { type: 'bool'; default?: boolean });

export interface ForceSchedulerOptions {
  name: string;
  builderNames: string[];
  /** Default text of the form's reason field. */
  reason?: string;
  /** Extra form fields; each becomes a build property. */
  properties?: ForceParameterInput[];
}

export interface ForceSchedulerDescriptor extends ForceSchedulerOptions {
  type: 'force';
}

export type SchedulerDescriptor = ForceSchedulerDescriptor;

/** What `defineConfig` accepts: the default export of a `master.config.ts`. */
export interface MasterConfigInput {
  title?: string;
  workers?: (WorkerDescriptor | KubernetesLatentWorkerDescriptor)[];
  builders?: BuilderDescriptor[];
  schedulers?: SchedulerDescriptor[];
  db?: { url?: string | null };
  www?: { port?: number; host?: string };
  workerPort?: number;
  workerHost?: string;
  collapseRequests?: boolean;
  properties?: Properties;
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
  db: DbConfig;
  www: WwwConfig;
  /** Port of the worker protocol (WebSocket). */
  workerPort: number;
  workerHost: string;
  /** Default of every builder's `collapseRequests`. */
  collapseRequests: boolean;
  /** Properties set on every build. */
  properties: Properties;
}

export interface DbConfig {
  /** `null`: the master uses `sqlite:///<basedir>/state.sqlite`. */
  url: string | null;
}

export interface WwwConfig {
  port: number;
  host: string;
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
  collapseRequests: boolean;
  properties: Properties;
  priority: number;
}

export interface BuildFactoryConfig {
  type: 'buildFactory';
  /** Step names are unique within a factory (duplicates get `_1`, `_2` … as in Buildbot). */
  steps: StepConfig[];
}

export interface StepConfigBase {
  name: string;
  description: string | null;
  descriptionDone: string | null;
  haltOnFailure: boolean;
  flunkOnFailure: boolean;
  warnOnFailure: boolean;
  alwaysRun: boolean;
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

export type StepConfig = ShellCommandStepConfig | GitStepConfig;

export interface ForceParameterBase {
  name: string;
  label: string;
  required: boolean;
}

export type ForceParameter =
  | (ForceParameterBase & { type: 'string'; default: string })
  | (ForceParameterBase & { type: 'int'; default: number })
  | (ForceParameterBase & { type: 'bool'; default: boolean });

export interface ForceSchedulerConfig {
  type: 'force';
  name: string;
  builderNames: string[];
  reason: string;
  properties: ForceParameter[];
}

export type SchedulerConfig = ForceSchedulerConfig;
