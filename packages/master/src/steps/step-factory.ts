/** Turns a step's normalized config into the step object a build runs. */
import type { StepConfig } from '../config/types.js';
import { DEFAULT_STEP_FLAGS, type BuildStep, type StepFlags } from './build-step.js';
import { DirectoryStep } from './directory.js';
import { GitStep } from './git.js';
import { MasterShellCommandStep } from './master-shell-command.js';
import { SetPropertyFromCommandStep, SetPropertyStep } from './set-property.js';
import { ShellCommandStep } from './shell-command.js';
import { ShellSequenceStep } from './shell-sequence.js';
import { TriggerStep } from './trigger.js';
import {
  DirectoryUploadStep,
  FileDownloadStep,
  FileUploadStep,
  StringDownloadStep,
} from './transfer.js';

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

function build(config: StepConfig, flags: StepFlags): BuildStep {
  const text = { description: config.description, descriptionDone: config.descriptionDone };
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
        logfiles: config.logfiles,
        warningPattern: config.warningPattern,
        maxWarnCount: config.maxWarnCount,
        ...text,
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
    case 'shellSequence':
      return new ShellSequenceStep(config.name, flags, {
        commands: config.commands,
        workdir: config.workdir,
        env: config.env,
        timeoutSeconds: seconds(config.timeout),
        maxTimeSeconds: seconds(config.maxTime),
        logEnviron: config.logEnviron,
        wantStdout: true,
        wantStderr: true,
        ...text,
      });
    case 'setProperty':
      return new SetPropertyStep(config.name, flags, {
        property: config.property,
        value: config.value,
        ...text,
      });
    case 'setPropertyFromCommand':
      return new SetPropertyFromCommandStep(config.name, flags, {
        command: config.command,
        workdir: config.workdir,
        env: config.env,
        timeoutSeconds: seconds(config.timeout),
        maxTimeSeconds: seconds(config.maxTime),
        logEnviron: config.logEnviron,
        wantStdout: true,
        wantStderr: true,
        property: config.property,
        extractFn: config.extractFn,
        strip: config.strip,
        includeStdout: config.includeStdout,
        includeStderr: config.includeStderr,
        ...text,
      });
    case 'fileUpload':
      return new FileUploadStep(config.name, flags, {
        workdir: config.workdir,
        blocksize: config.blocksize,
        maxsize: config.maxsize,
        workersrc: config.workersrc,
        masterdest: config.masterdest,
        mode: config.mode,
        keepstamp: config.keepstamp,
        url: config.url,
        urlText: config.urlText,
        ...text,
      });
    case 'directoryUpload':
      return new DirectoryUploadStep(config.name, flags, {
        workdir: config.workdir,
        blocksize: config.blocksize,
        maxsize: config.maxsize,
        workersrc: config.workersrc,
        masterdest: config.masterdest,
        compress: config.compress,
        url: config.url,
        urlText: config.urlText,
        ...text,
      });
    case 'fileDownload':
      return new FileDownloadStep(config.name, flags, {
        workdir: config.workdir,
        blocksize: config.blocksize,
        maxsize: config.maxsize,
        mastersrc: config.mastersrc,
        workerdest: config.workerdest,
        mode: config.mode,
        ...text,
      });
    case 'stringDownload':
      return new StringDownloadStep(config.name, flags, {
        workdir: config.workdir,
        blocksize: config.blocksize,
        maxsize: config.maxsize,
        s: config.s,
        workerdest: config.workerdest,
        mode: config.mode,
        ...text,
      });
    case 'makeDirectory':
      return new DirectoryStep(config.name, flags, 'mkdir', { dir: config.dir, ...text });
    case 'removeDirectory':
      return new DirectoryStep(config.name, flags, 'rmdir', { dir: config.dir, ...text });
    case 'masterShellCommand':
      return new MasterShellCommandStep(config.name, flags, {
        command: config.command,
        env: config.env,
        workdir: config.workdir,
        maxTimeMs: config.maxTime,
        ...text,
      });
    case 'trigger':
      return new TriggerStep(config.name, flags, {
        schedulerNames: config.schedulerNames,
        unimportantSchedulerNames: config.unimportantSchedulerNames,
        waitForFinish: config.waitForFinish,
        alwaysUseLatest: config.alwaysUseLatest,
        updateSourceStamp: config.updateSourceStamp,
        sourceStamps: config.sourceStamps,
        setProperties: config.setProperties,
        copyProperties: config.copyProperties,
        parentRelationship: config.parentRelationship,
        ...text,
      });
  }
}

export function createStep(config: StepConfig): BuildStep {
  const flags: StepFlags = {
    ...DEFAULT_STEP_FLAGS,
    haltOnFailure: config.haltOnFailure,
    flunkOnFailure: config.flunkOnFailure,
    warnOnFailure: config.warnOnFailure,
    warnOnWarnings: config.warnOnWarnings,
    flunkOnWarnings: config.flunkOnWarnings,
    alwaysRun: config.alwaysRun,
  };
  const step = build(config, flags);
  step.doStepIf = config.doStepIf;
  step.hideStepIf = config.hideStepIf;
  step.locks = config.locks;
  return step;
}
