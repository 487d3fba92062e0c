/**
 * The config side of the build features: steps, locks, renderers, secrets, reporters —
 * their defaults, their problems, and that a config with renderers still compares for a
 * reload.
 */
import { describe, expect, it } from 'vitest';

import { ConfigError } from './config-error.js';
import {
  buildFactory,
  builder,
  directoryUpload,
  fileDownload,
  fileUpload,
  gitHubStatusPush,
  gitLabStatusPush,
  httpStatusPush,
  interpolate,
  makeDirectory,
  masterLock,
  masterShellCommand,
  removeDirectory,
  renderer,
  setProperty,
  setPropertyFromCommand,
  shellCommand,
  shellSequence,
  stringDownload,
  worker,
  workerLock,
} from './factories.js';
import type { MasterConfigInput, StepDescriptor } from './types.js';
import { validateConfig } from './validate-config.js';

function withSteps(steps: StepDescriptor[], extra: Partial<MasterConfigInput> = {}) {
  return {
    workers: [worker('w1', { password: 'p' })],
    builders: [builder({ name: 'b', workerNames: ['w1'], factory: buildFactory(steps) })],
    ...extra,
  };
}

function problems(raw: unknown): string[] {
  try {
    validateConfig(raw, 'x');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('build steps in the config', () => {
  it('fills in Buildbot defaults for every new step', () => {
    const config = validateConfig(
      withSteps([
        shellSequence({
          commands: [{ command: 'make' }, { command: ['make', 'test'], logname: 'test' }],
        }),
        setProperty({ property: 'p', value: interpolate('%(prop:x)s') }),
        setPropertyFromCommand({ command: 'git rev-parse HEAD', property: 'rev' }),
        fileUpload({ workersrc: 'out.bin', masterdest: 'artifacts/out.bin' }),
        directoryUpload({ workersrc: 'dist', masterdest: 'site', compress: 'gz' }),
        fileDownload({ mastersrc: 'tools/x', workerdest: 'x', mode: 0o755 }),
        stringDownload({ s: 'hello', workerdest: 'hello.txt' }),
        makeDirectory({ dir: 'build/out' }),
        removeDirectory({ dir: 'build/out' }),
        masterShellCommand({ command: 'echo hi' }),
      ]),
      'x',
    );
    const steps = config.builders[0]?.factory.steps ?? [];
    expect(steps.map((s) => [s.type, s.name])).toEqual([
      ['shellSequence', 'shell'],
      ['setProperty', 'SetProperty'],
      ['setPropertyFromCommand', 'setproperty'],
      ['fileUpload', 'upload'],
      ['directoryUpload', 'upload_1'],
      ['fileDownload', 'download'],
      ['stringDownload', 'string_download'],
      ['makeDirectory', 'MakeDirectory'],
      ['removeDirectory', 'RemoveDirectory'],
      ['masterShellCommand', 'MasterShellCommand'],
    ]);
    expect(steps[0]).toMatchObject({
      commands: [
        { command: 'make', logname: null, haltOnFailure: false, flunkOnFailure: true },
        { command: ['make', 'test'], logname: 'test' },
      ],
      doStepIf: true,
      hideStepIf: false,
      locks: [],
    });
    expect(steps[3]).toMatchObject({
      blocksize: 262_144,
      maxsize: null,
      mode: null,
      keepstamp: false,
    });
    expect(steps[4]).toMatchObject({ blocksize: 16_384, compress: 'gz' });
    expect(steps[9]).toMatchObject({ haltOnFailure: true, workdir: null, maxTime: null });
    expect(steps[2]).toMatchObject({ strip: true, includeStdout: true, includeStderr: false });
  });

  it('warning counting: true means Buildbot pattern, maxWarnCount alone turns it on, bad regex is a problem', () => {
    const config = validateConfig(
      withSteps([
        shellCommand({ command: 'make', warningPattern: true }),
        shellCommand({ command: 'make', maxWarnCount: 3 }),
        shellCommand({ command: 'make', warningPattern: '^W: ', logfiles: { trace: 'trace.log' } }),
      ]),
      'x',
    );
    const steps = config.builders[0]?.factory.steps ?? [];
    expect(steps.map((s) => (s.type === 'shellCommand' ? s.warningPattern : null))).toEqual([
      '(?i).*warning[: ].*',
      '(?i).*warning[: ].*',
      '^W: ',
    ]);
    expect(steps[2]).toMatchObject({
      logfiles: { trace: { filename: 'trace.log', follow: false } },
    });
    expect(problems(withSteps([shellCommand({ command: 'x', warningPattern: '(' })]))[0]).toMatch(
      /^builders\[0\]\.factory\.steps\[0\]\.warningPattern: not a valid regular expression/,
    );
  });

  it('reports step problems with their paths', () => {
    expect(
      problems(
        withSteps([
          setPropertyFromCommand({ command: 'x' }),
          setPropertyFromCommand({
            command: 'x',
            property: 'a',
            extractFn: renderer(() => ({})),
          }),
          shellCommand({ command: 'x', doStepIf: (() => true) as never }),
          setProperty({ property: 'p', value: (() => 1) as never }),
          fileUpload({ workersrc: 'a', masterdest: 'b', mode: 0o10000 }),
          shellSequence({ commands: [] }),
          directoryUpload({ workersrc: 'a', masterdest: 'b', compress: 'bz2' as never }),
        ]),
      ),
    ).toEqual([
      'builders[0].factory.steps[0]: set exactly one of property and extractFn',
      'builders[0].factory.steps[1].property: set exactly one of property and extractFn',
      'builders[0].factory.steps[2].doStepIf: expected true, false or renderer(fn), got a bare function; wrap it: renderer((props) => boolean)',
      'builders[0].factory.steps[3].value: expected a value, got a function; wrap the function: renderer((props) => ...)',
      'builders[0].factory.steps[4].mode: must be at most 4095, got 4096',
      'builders[0].factory.steps[5].commands: must not be empty',
      'builders[0].factory.steps[6].compress: expected "gz", got "bz2"',
    ]);
  });
});

describe('locks in the config', () => {
  it('normalizes lock.access(), bare locks (counting) and maxCountForWorker', () => {
    const db = masterLock('db', { maxCount: 2 });
    const cpu = workerLock('cpu', { maxCountForWorker: { w1: 4 } });
    expect(Object.keys(db)).toEqual(['type', 'name', 'maxCount']);
    const config = validateConfig(
      {
        workers: [worker('w1', { password: 'p' })],
        builders: [
          builder({
            name: 'b',
            workerNames: ['w1'],
            locks: [db.access('exclusive'), cpu],
            factory: buildFactory([
              shellCommand({ command: 'x', locks: [cpu.access('counting', 2)] }),
            ]),
          }),
        ],
      },
      'x',
    );
    const b = config.builders[0];
    expect(b?.locks).toEqual([
      {
        type: 'lockAccess',
        lock: { type: 'masterLock', name: 'db', maxCount: 2 },
        mode: 'exclusive',
        count: 1,
      },
      {
        type: 'lockAccess',
        lock: { type: 'workerLock', name: 'cpu', maxCount: 1, maxCountForWorker: { w1: 4 } },
        mode: 'counting',
        count: 1,
      },
    ]);
    expect(b?.factory.steps[0]?.locks[0]).toMatchObject({ mode: 'counting', count: 2 });
  });

  it('refuses bad accesses and unknown lock shapes', () => {
    const lock = masterLock('l');
    expect(
      problems({
        workers: [worker('w1', { password: 'p' })],
        builders: [
          builder({
            name: 'b',
            workerNames: ['w1'],
            locks: [
              lock.access('exclusive', 2),
              { type: 'lockAccess', lock, mode: 'shared' } as never,
              'l' as never,
            ],
            factory: buildFactory([]),
          }),
        ],
      }),
    ).toEqual([
      'builders[0].locks[0].count: exclusive access takes the whole lock: count must be 1, got 2',
      'builders[0].locks[1].mode: expected "exclusive" or "counting", got "shared"',
      'builders[0].locks[2]: expected a lock made by masterLock(name) or workerLock(name), or lock.access("exclusive" | "counting"), got "l"',
    ]);
  });
});

describe('renderers, hooks, secrets and reporters in the config', () => {
  it('keeps renderer functions and compares them by source text', () => {
    const make = () =>
      validateConfig(
        {
          workers: [worker('w1', { password: 'p' })],
          builders: [
            builder({
              name: 'b',
              workerNames: ['w1'],
              collapseRequests: renderer(() => false),
              nextWorker: renderer((_b, workers) => workers[0] ?? null),
              factory: buildFactory([shellCommand({ command: renderer(() => 'true') })]),
            }),
          ],
        },
        'x',
      );
    const first = make();
    const second = make();
    const b = first.builders[0];
    expect(typeof b?.collapseRequests).toBe('object');
    expect(b?.nextWorker?.fn).toBeTypeOf('function');
    expect(JSON.stringify(first)).toBe(JSON.stringify(second));
    expect(JSON.stringify(b?.nextWorker)).toContain(
      '"source":"(_b, workers) => workers[0] ?? null"',
    );
  });

  it('hooks must be renderers', () => {
    expect(
      problems({
        workers: [worker('w1', { password: 'p' })],
        builders: [
          builder({
            name: 'b',
            workerNames: ['w1'],
            nextBuild: ((_b: unknown, requests: unknown[]) => requests[0]) as never,
            factory: buildFactory([]),
          }),
        ],
      }),
    ).toEqual([
      'builders[0].nextBuild: expected renderer(fn), got a bare function; wrap it: renderer((builder, requests) => request)',
    ]);
  });

  it('secrets and reporters: defaults and problems', () => {
    const config = validateConfig(
      {
        workers: [worker('w1', { password: 'p' })],
        builders: [builder({ name: 'b', workerNames: ['w1'], factory: buildFactory([]) })],
        secrets: { provider: 'files', dir: 'secrets' },
        buildbotURL: 'https://ci.example.com/',
        reporters: [
          httpStatusPush({ serverUrl: 'http://127.0.0.1:1/hook' }),
          gitHubStatusPush({ token: interpolate('%(secret:gh)s'), baseURL: 'http://127.0.0.1:2/' }),
          gitLabStatusPush({ token: 't', builders: ['b'], retries: 0 }),
        ],
      },
      'x',
    );
    expect(config.secrets).toEqual({ provider: 'files', dir: 'secrets' });
    expect(config.reporters).toEqual([
      {
        type: 'httpStatusPush',
        serverUrl: 'http://127.0.0.1:1/hook',
        headers: {},
        auth: null,
        wantProperties: true,
        wantSteps: false,
        builders: null,
        retries: 3,
        retryDelay: 1000,
        timeout: 10_000,
      },
      {
        type: 'gitHubStatusPush',
        token: { type: 'interpolate', format: '%(secret:gh)s' },
        baseURL: 'http://127.0.0.1:2',
        context: { type: 'interpolate', format: 'buildbot/%(prop:buildername)s' },
        builders: null,
        retries: 3,
        retryDelay: 1000,
        timeout: 10_000,
      },
      {
        type: 'gitLabStatusPush',
        token: 't',
        baseURL: 'https://gitlab.com',
        context: { type: 'interpolate', format: 'buildbot/%(prop:buildername)s' },
        builders: ['b'],
        retries: 0,
        retryDelay: 1000,
        timeout: 10_000,
      },
    ]);
    expect(
      problems({
        secrets: { provider: 'vault' },
        reporters: [
          httpStatusPush({ serverUrl: 'ftp://x' }),
          gitHubStatusPush({ token: interpolate('%(secret:)s') }),
          gitLabStatusPush({ token: 't', builders: ['nope'] }),
        ],
      }),
    ).toEqual([
      'secrets: expected { provider: "env", prefix? } or { provider: "files", dir }, got an object',
      'reporters[0].serverUrl: expected an http:// or https:// URL, got "ftp://x"',
      'reporters[1].token: interpolate("%(secret:)s"): secret name "" in "%(secret:)s" must be letters, digits, "_", "." or "-" (a secret has no default)',
      'reporters[2].builders[0]: unknown builder "nope" (known: none)',
    ]);
  });
});
