/**
 * Factories of change sources, schedulers, change filters and the `trigger` step. Like
 * every factory, each returns a plain tagged descriptor and checks nothing itself:
 * `validateConfig` does (docs/config.md documents each).
 */
import type {
  AnyBranchSchedulerDescriptor,
  AnyBranchSchedulerOptions,
  ChangeFilterDescriptor,
  ChangeFilterInput,
  DependentSchedulerDescriptor,
  DependentSchedulerOptions,
  GitPollerDescriptor,
  GitPollerOptions,
  NightlySchedulerDescriptor,
  NightlySchedulerOptions,
  PeriodicSchedulerDescriptor,
  PeriodicSchedulerOptions,
  SingleBranchSchedulerDescriptor,
  SingleBranchSchedulerOptions,
  TriggerableSchedulerDescriptor,
  TriggerableSchedulerOptions,
  TriggerDescriptor,
  TriggerOptions,
} from './change-types.js';

/** Only plain objects are spread, so a wrong argument shows up as missing fields. */
function fields<T extends object>(options: T): T {
  return typeof options === 'object' && options !== null && !Array.isArray(options)
    ? options
    : ({} as T);
}

/** Polls a git repository for new commits (Buildbot's `GitPoller`). */
export function gitPoller(options: GitPollerOptions): GitPollerDescriptor {
  return { type: 'gitPoller', ...fields(options) };
}

/** Which changes a scheduler looks at (Buildbot's `util.ChangeFilter`). */
export function changeFilter(options: ChangeFilterInput): ChangeFilterDescriptor {
  return { type: 'changeFilter', ...fields(options) };
}

/** Builds the changes of one branch (Buildbot's `SingleBranchScheduler`). */
export function singleBranchScheduler(
  options: SingleBranchSchedulerOptions,
): SingleBranchSchedulerDescriptor {
  return { type: 'singleBranch', ...fields(options) };
}

/** Builds the changes of every branch, each on its own (Buildbot's `AnyBranchScheduler`). */
export function anyBranchScheduler(
  options: AnyBranchSchedulerOptions,
): AnyBranchSchedulerDescriptor {
  return { type: 'anyBranch', ...fields(options) };
}

/** Builds every `periodicBuildTimer` (Buildbot's `Periodic`). */
export function periodic(options: PeriodicSchedulerOptions): PeriodicSchedulerDescriptor {
  return { type: 'periodic', ...fields(options) };
}

/** Builds at the times of a cron schedule (Buildbot's `Nightly`). */
export function nightly(options: NightlySchedulerOptions): NightlySchedulerDescriptor {
  return { type: 'nightly', ...fields(options) };
}

/** Builds when a `trigger` step asks (Buildbot's `Triggerable`). */
export function triggerable(options: TriggerableSchedulerOptions): TriggerableSchedulerDescriptor {
  return { type: 'triggerable', ...fields(options) };
}

/** Builds after a successful buildset of another scheduler (Buildbot's `Dependent`). */
export function dependent(options: DependentSchedulerOptions): DependentSchedulerDescriptor {
  return { type: 'dependent', ...fields(options) };
}

/** A step that starts builds through `triggerable` schedulers (Buildbot's `Trigger`). */
export function trigger(options: TriggerOptions): TriggerDescriptor {
  return { type: 'trigger', ...fields(options) };
}
