/**
 * The component factories a config file calls. Each returns a plain tagged descriptor
 * (no classes, no functions), so configs can be compared for a reload; they check
 * nothing themselves: `validateConfig` checks everything at once and reports every
 * problem with its path.
 */
import type {
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
