/** What the process layer needs to know about one configured builder. */
import type {
  CanStartBuildFn,
  CollapseRequestsFn,
  LockAccessConfig,
  NextBuildFn,
  NextWorkerFn,
  RendererDescriptor,
} from '../config/types.js';
import type { BuildStep } from '../steps/build-step.js';
import type { TriggerServices } from '../steps/trigger.js';
import type { LockManager } from './locks.js';
import type { SecretsProvider } from './secrets.js';

/**
 * Master-wide things a build uses, from the config it started under: a reconfig makes a
 * new one, running builds keep theirs.
 */
export interface BuildServices {
  secrets: SecretsProvider;
  locks: LockManager;
  /** The master's basedir: where uploads land and `masterShellCommand` runs. */
  masterBasedir: string;
  /** Properties of the whole config (source "Global"). */
  globalProperties: Record<string, unknown>;
  /** A worker's configured properties (source "Worker"). */
  workerProperties(workerName: string): Record<string, unknown>;
  /** The triggerable schedulers, for `trigger` steps. */
  triggers?: TriggerServices;
}

export interface BuilderRuntime {
  name: string;
  builderid: number;
  workerNames: string[];
  /** Fresh step objects for one build, in order. */
  createSteps(): BuildStep[];
  /** The builder's directory under the worker's basedir. */
  builddir: string;
  collapseRequests: boolean | RendererDescriptor<CollapseRequestsFn>;
  priority: number;
  /** The builder's own properties (source "Builder"). */
  properties: Record<string, unknown>;
  /** Locks held for the whole build. */
  locks?: LockAccessConfig[];
  nextWorker?: RendererDescriptor<NextWorkerFn> | null;
  nextBuild?: RendererDescriptor<NextBuildFn> | null;
  canStartBuild?: RendererDescriptor<CanStartBuildFn> | null;
  services?: BuildServices;
}
