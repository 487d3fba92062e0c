/**
 * The component factories a config file calls. Each returns a plain tagged descriptor
 * (no classes), so configs can be compared for a reload; the only functions are those
 * tagged by `renderer(fn)` (compared by their source text) and a lock's non-enumerable
 * `access()`. They check nothing themselves: `validateConfig` checks everything at once
 * and reports every problem with its path.
 */
import type {
  CommitStatusOptions,
  DirectoryStepOptions,
  DirectoryUploadDescriptor,
  DirectoryUploadOptions,
  FileDownloadDescriptor,
  FileDownloadOptions,
  FileUploadDescriptor,
  FileUploadOptions,
  GitHubStatusPushDescriptor,
  GitLabStatusPushDescriptor,
  HttpStatusPushDescriptor,
  HttpStatusPushOptions,
  LockAccessDescriptor,
  LockAccessor,
  LockDescriptor,
  LockMode,
  MakeDirectoryDescriptor,
  MasterLockDescriptor,
  MasterShellCommandDescriptor,
  MasterShellCommandOptions,
  RemoveDirectoryDescriptor,
  RendererDescriptor,
  SetPropertyDescriptor,
  ValueRendererFn,
  SetPropertyFromCommandDescriptor,
  SetPropertyFromCommandOptions,
  SetPropertyOptions,
  ShellSequenceDescriptor,
  ShellSequenceOptions,
  StringDownloadDescriptor,
  StringDownloadOptions,
  WorkerLockDescriptor,
  BuildFactoryDescriptor,
  BuilderDescriptor,
  BuilderOptions,
  ForceSchedulerDescriptor,
  ForceSchedulerOptions,
  GitDescriptor,
  GitOptions,
  InterpolateDescriptor,
  KubernetesLatentWorkerDescriptor,
  KubernetesLatentWorkerOptions,
  ShellCommandDescriptor,
  ShellCommandOptions,
  StepDescriptor,
  WorkerDescriptor,
  WorkerOptions,
} from './types.js';

/** Only plain objects are spread, so a wrong argument shows up as missing fields. */
function fields<T extends object>(options: T): T {
  return typeof options === 'object' && options !== null && !Array.isArray(options)
    ? options
    : ({} as T);
}

/** A worker that connects to the master with `name` and `password`. */
export function worker(name: string, options: WorkerOptions): WorkerDescriptor {
  return { type: 'worker', name, ...fields(options) };
}

/**
 * Workers started on demand as Kubernetes pods: one pod per build, created when requests
 * wait, at most `maxPods` at once. Builders list it by `name` in `workerNames`.
 */
export function kubernetesLatentWorker(
  name: string,
  options: KubernetesLatentWorkerOptions,
): KubernetesLatentWorkerDescriptor {
  return { type: 'kubernetesLatentWorker', name, ...fields(options) };
}

/** A builder: which workers may run its builds, and the steps of a build. */
export function builder(options: BuilderOptions): BuilderDescriptor {
  return { type: 'builder', ...fields(options) };
}

/** The steps of a build, in order: `buildFactory([...])` or `buildFactory({ steps: [...] })`. */
export function buildFactory(
  steps: StepDescriptor[] | { steps: StepDescriptor[] },
): BuildFactoryDescriptor {
  if (Array.isArray(steps)) return { type: 'buildFactory', steps };
  return { type: 'buildFactory', ...fields(steps) };
}

/** Run a command on the worker (Buildbot's `ShellCommand`). */
export function shellCommand(options: ShellCommandOptions): ShellCommandDescriptor {
  return { type: 'shellCommand', ...fields(options) };
}

/** Check out a git repository on the worker (Buildbot's `Git` source step). */
export function git(options: GitOptions): GitDescriptor {
  return { type: 'git', ...fields(options) };
}

/** A scheduler that starts builds on demand, from the web UI or the REST API. */
export function forceScheduler(options: ForceSchedulerOptions): ForceSchedulerDescriptor {
  return { type: 'force', ...fields(options) };
}

/**
 * A string rendered when the step starts (Buildbot's `util.Interpolate`), for a shell
 * command, an element of a command list, or an `env` value:
 * `interpolate('make %(prop:target:-all)s')`, `interpolate('%(src::branch)s')`.
 */
export function interpolate(format: string): InterpolateDescriptor {
  return { type: 'interpolate', format };
}

/**
 * Tags a function so the master calls it when it needs the value (Buildbot's
 * `@util.renderer`): as a value, `renderer((props) => …)` is called with the build's
 * properties when the step starts; as a hook (`collapseRequests`, `nextWorker`,
 * `nextBuild`, `canStartBuild`, `doStepIf`, `hideStepIf`, `extractFn`) with the arguments
 * docs/config.md lists. A reload compares renderers by their source text.
 */
export function renderer<F extends (...args: never[]) => unknown = ValueRendererFn>(
  fn: F,
): RendererDescriptor<F> {
  return { type: 'renderer', source: typeof fn === 'function' ? fn.toString() : '', fn };
}

/** `access(mode, count)` on a lock descriptor: not enumerable, so the lock stays plain data. */
function withAccess<L extends LockDescriptor>(lock: L): L & LockAccessor {
  const plain = { ...lock };
  Object.defineProperty(lock, 'access', {
    enumerable: false,
    value: (mode: LockMode, count?: number): LockAccessDescriptor => ({
      type: 'lockAccess',
      lock: plain,
      mode,
      ...(count === undefined ? {} : { count }),
    }),
  });
  return lock as L & LockAccessor;
}

/**
 * A lock shared by every build and step of this master (Buildbot's `util.MasterLock`):
 * `masterLock('deploy')`, then `locks: [deploy.access('exclusive')]` on a builder or step.
 */
export function masterLock(
  name: string,
  options: { maxCount?: number } = {},
): MasterLockDescriptor & LockAccessor {
  return withAccess({ type: 'masterLock', name, ...fields(options) });
}

/**
 * A lock per worker (Buildbot's `util.WorkerLock`): each worker has its own, with
 * `maxCount` holders (or `maxCountForWorker[name]`) in counting mode.
 */
export function workerLock(
  name: string,
  options: { maxCount?: number; maxCountForWorker?: Record<string, number> } = {},
): WorkerLockDescriptor & LockAccessor {
  return withAccess({ type: 'workerLock', name, ...fields(options) });
}

/** Runs several commands in one step (Buildbot's `ShellSequence`). */
export function shellSequence(options: ShellSequenceOptions): ShellSequenceDescriptor {
  return { type: 'shellSequence', ...fields(options) };
}

/** Sets a build property (Buildbot's `SetProperty`). */
export function setProperty(options: SetPropertyOptions): SetPropertyDescriptor {
  return { type: 'setProperty', ...fields(options) };
}

/** Sets properties from a command's output (Buildbot's `SetPropertyFromCommand`). */
export function setPropertyFromCommand(
  options: SetPropertyFromCommandOptions,
): SetPropertyFromCommandDescriptor {
  return { type: 'setPropertyFromCommand', ...fields(options) };
}

/** Copies a file from the worker to the master (Buildbot's `FileUpload`). */
export function fileUpload(options: FileUploadOptions): FileUploadDescriptor {
  return { type: 'fileUpload', ...fields(options) };
}

/** Copies a directory from the worker to the master (Buildbot's `DirectoryUpload`). */
export function directoryUpload(options: DirectoryUploadOptions): DirectoryUploadDescriptor {
  return { type: 'directoryUpload', ...fields(options) };
}

/** Copies a file from the master to the worker (Buildbot's `FileDownload`). */
export function fileDownload(options: FileDownloadOptions): FileDownloadDescriptor {
  return { type: 'fileDownload', ...fields(options) };
}

/** Writes a string to a file on the worker (Buildbot's `StringDownload`). */
export function stringDownload(options: StringDownloadOptions): StringDownloadDescriptor {
  return { type: 'stringDownload', ...fields(options) };
}

/** Creates a directory on the worker (Buildbot's `MakeDirectory`). */
export function makeDirectory(options: DirectoryStepOptions): MakeDirectoryDescriptor {
  return { type: 'makeDirectory', ...fields(options) };
}

/** Removes a directory on the worker (Buildbot's `RemoveDirectory`). */
export function removeDirectory(options: DirectoryStepOptions): RemoveDirectoryDescriptor {
  return { type: 'removeDirectory', ...fields(options) };
}

/** Runs a command on the master (Buildbot's `MasterShellCommand`). */
export function masterShellCommand(
  options: MasterShellCommandOptions,
): MasterShellCommandDescriptor {
  return { type: 'masterShellCommand', ...fields(options) };
}

/** POSTs each build's JSON to a URL when it starts and ends (Buildbot's `HttpStatusPush`). */
export function httpStatusPush(options: HttpStatusPushOptions): HttpStatusPushDescriptor {
  return { type: 'httpStatusPush', ...fields(options) };
}

/** Sets GitHub commit statuses for builds (Buildbot's `GitHubStatusPush`). */
export function gitHubStatusPush(options: CommitStatusOptions): GitHubStatusPushDescriptor {
  return { type: 'gitHubStatusPush', ...fields(options) };
}

/** Sets GitLab commit statuses for builds (Buildbot's `GitLabStatusPush`). */
export function gitLabStatusPush(options: CommitStatusOptions): GitLabStatusPushDescriptor {
  return { type: 'gitLabStatusPush', ...fields(options) };
}
