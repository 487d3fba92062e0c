import { describe, expect, it } from 'vitest';

import { interpolate } from '../config/factories.js';
import type { LogWriter } from '../process/log-writer.js';
import { Results } from '../results.js';
import { DEFAULT_STEP_FLAGS, type StepRuntime } from './build-step.js';
import { ShellCommandStep, type ShellCommandOptions } from './shell-command.js';

function options(overrides: Partial<ShellCommandOptions>): ShellCommandOptions {
  return {
    command: 'true',
    workdir: 'build',
    env: {},
    timeoutSeconds: 1200,
    maxTimeSeconds: null,
    logEnviron: true,
    wantStdout: true,
    wantStderr: true,
    description: null,
    descriptionDone: null,
    ...overrides,
  };
}

/** A runtime that records the `shell` command's arguments and answers rc 0. */
function runtime(properties: Record<string, unknown>) {
  const sent: Record<string, unknown>[] = [];
  const rt: StepRuntime = {
    workerName: 'w1',
    builderName: 'logs',
    workerPath: (...parts) => ['/basedir/logs', ...parts].join('/'),
    addLog: () => Promise.resolve({} as LogWriter),
    runCommand: (_name, args) => {
      sent.push(args);
      return Promise.resolve({ rc: 0, updates: new Map(), failure: null, interrupted: false });
    },
    setState: () => Promise.resolve(),
    getProperty: (name) => properties[name],
    setProperty: () => undefined,
    sourcestamp: { branch: 'main', revision: null, repository: '' },
    stopping: false,
    buildid: 1,
    sourcestamps: [],
    workerInfo: {},
    getSecret: (name) => {
      throw new Error(`no secret ${name}`);
    },
    allProperties: () => ({ ...properties }),
    redact: (text) => text,
    masterBasedir: '/master',
    addUrl: () => Promise.resolve(),
    onStop: () => () => undefined,
  };
  return { rt, sent };
}

describe('ShellCommandStep with interpolate()', () => {
  it('renders the command and env at step start and describes the rendered command', async () => {
    const step = new ShellCommandStep(
      'yes',
      DEFAULT_STEP_FLAGS,
      options({
        command: interpolate('yes %(prop:log_line)s | head -c %(prop:log_bytes)s'),
        env: { BRANCH: interpolate('%(src::branch)s'), CI: 'true' },
      }),
    );
    expect(step.describe(false)).toBe("'yes %(prop:log_line)s | head -c %(pro...'");
    const { rt, sent } = runtime({ log_line: 'yy', log_bytes: '100' });
    await expect(step.run(rt)).resolves.toBe(Results.SUCCESS);
    expect(sent[0]).toMatchObject({
      command: 'yes yy | head -c 100',
      env: { BRANCH: 'main', CI: 'true' },
      workdir: '/basedir/logs/build',
    });
    expect(step.describe(true)).toBe("'yes yy | head -c 100'");
  });

  it('renders elements of a command list', async () => {
    const step = new ShellCommandStep(
      'make',
      DEFAULT_STEP_FLAGS,
      options({ command: ['make', interpolate('-j%(prop:jobs:-1)s')] }),
    );
    const { rt, sent } = runtime({});
    await step.run(rt);
    expect(sent[0]?.command).toEqual(['make', '-j1']);
  });
});
