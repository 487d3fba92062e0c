/** Turns a step's normalized config into the step object a build runs. */
import type { StepConfig } from '../config/types.js';
import { DEFAULT_STEP_FLAGS, type BuildStep, type StepFlags } from './build-step.js';
import { GitStep } from './git.js';
import { ShellCommandStep } from './shell-command.js';

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

export function createStep(config: StepConfig): BuildStep {
  const flags: StepFlags = {
    ...DEFAULT_STEP_FLAGS,
    haltOnFailure: config.haltOnFailure,
    flunkOnFailure: config.flunkOnFailure,
    warnOnFailure: config.warnOnFailure,
    alwaysRun: config.alwaysRun,
  };
  switch (config.type) {
    case 'shellCommand':
      return new ShellCommandStep(config.name, flags, {
        command: config.command,
        workdir: config.workdir,
        env: config.env,
        timeoutSeconds: seconds(config.timeout),
        maxTimeSeconds: seconds(config.maxTime),
        logEnviron: config.logEnviron,
        wantStdout: config.wantStdout,
        wantStderr: config.wantStderr,
        description: config.description,
        descriptionDone: config.descriptionDone,
      });
    case 'git':
      return new GitStep(config.name, flags, {
        repourl: config.repourl,
        branch: config.branch,
        mode: config.mode,
        method: config.method,
        workdir: config.workdir,
        timeoutSeconds: seconds(config.timeout),
      });
  }
}
