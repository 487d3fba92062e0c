/** What the process layer needs to know about one configured builder. */
import type { BuildStep } from '../steps/build-step.js';

export interface BuilderRuntime {
  name: string;
  builderid: number;
  workerNames: string[];
  /** Fresh step objects for one build, in order. */
  createSteps(): BuildStep[];
  /** The builder's directory under the worker's basedir. */
  builddir: string;
  collapseRequests: boolean;
  priority: number;
  properties: Record<string, unknown>;
}
