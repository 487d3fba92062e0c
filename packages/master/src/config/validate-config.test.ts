import { describe, expect, it } from 'vitest';

import { YardmasterError } from '../errors.js';
import { ConfigError } from './config-error.js';
import { defineConfig } from './define-config.js';
import { buildFactory, builder, forceScheduler, git, shellCommand, worker } from './factories.js';
import type { MasterConfigInput } from './types.js';
import { validateConfig } from './validate-config.js';

/** The ConfigError `validateConfig` throws for `raw` (fails the test if it does not throw). */
function problemsOf(raw: unknown): ConfigError {
  try {
    validateConfig(raw, 'master.config.ts');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be invalid');
}

/** Problem lines as "path: message". */
function lines(raw: unknown): string[] {
  return problemsOf(raw).problems.map((problem) => `${problem.path}: ${problem.message}`);
}

/** A valid config to start from: one worker, one builder, one scheduler. */
function minimal(overrides: Partial<MasterConfigInput> = {}): MasterConfigInput {
  return defineConfig({
    workers: [worker('linux-1', { password: 'secret' })],
    builders: [
      builder({
        name: 'app',
        workerNames: ['linux-1'],
        factory: buildFactory([shellCommand({ command: 'make test' })]),
      }),
    ],
    schedulers: [forceScheduler({ name: 'force', builderNames: ['app'] })],
    ...overrides,
  });
}

/** Bypasses the factories' types, as a JavaScript config (or a typo) would. */
function untyped<T>(value: unknown): T {
  return value as T;
}

describe('validateConfig: reporting', () => {
  it('lists every problem, in file order, rendered as documented', () => {
    const raw = defineConfig({
      workers: [worker('linux-1', { password: 'a' }), worker('k8s', { password: 'b' })],
      builders: [
        builder({
          name: 'app',
          workerNames: ['linux-1', 'k8s-2'],
          factory: buildFactory([
            shellCommand({ command: 'make', timeout: '30 seconds' }),
            git(untyped({ repourl: 'https://example.com/app.git', mode: 'ful' })),
          ]),
        }),
      ],
      schedulers: [forceScheduler({ name: 'force', builderNames: ['ap'] })],
    });
    const error = problemsOf(raw);
    expect(error.message).toBe(
      [
        'master.config.ts has 4 problems:',
        '  builders[0].workerNames[1]: unknown worker "k8s-2" (known: linux-1, k8s)',
        '  builders[0].factory.steps[0].timeout: expected a duration such as "30s", "5m", "1h30m" or a number of seconds, got "30 seconds"',
        '  builders[0].factory.steps[1].mode: expected "incremental" or "full", got "ful" (did you mean "full"?)',
        '  schedulers[0].builderNames[0]: unknown builder "ap" (known: app)',
      ].join('\n'),
    );
    expect(error.problems).toHaveLength(4);
    expect(error.problems[0]).toEqual({
      path: 'builders[0].workerNames[1]',
      message: 'unknown worker "k8s-2" (known: linux-1, k8s)',
    });
  });

  it('says "1 problem" for one', () => {
    const error = problemsOf(minimal({ workerPort: 70_000 }));
    expect(error.message).toBe(
      'master.config.ts has 1 problem:\n  workerPort: must be at most 65535, got 70000',
    );
  });

  it('throws a YardmasterError with code config_invalid, named after the source', () => {
    let thrown: unknown;
    try {
      validateConfig(minimal({ title: '' }), 'configs/ci.config.ts');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toBeInstanceOf(YardmasterError);
    const error = thrown as ConfigError;
    expect(error.code).toBe('config_invalid');
    expect(error.name).toBe('ConfigError');
    expect(error.message.split('\n')[0]).toBe('configs/ci.config.ts has 1 problem:');
  });

  it('explains missing fields and wrong types in words, not zod jargon', () => {
    expect(
      lines({
        workers: [untyped(worker('linux-1', untyped({}))), { name: 'w2', password: 42 }],
        builders: 'app',
        www: { port: '8010' },
        collapseRequests: 'yes',
      }),
    ).toEqual([
      'workers[0].password: required field is missing (expected a string)',
      'workers[1].password: expected a string, got 42',
      'builders: expected a list, got "app"',
      'www.port: expected a number, got "8010"',
      'collapseRequests: expected true, false or renderer((builder, request, other) => boolean), got "yes"',
    ]);
  });

  it('treats unknown keys as errors and suggests the key that was meant', () => {
    const raw = minimal({
      workers: [untyped(worker('linux-1', untyped({ pasword: 'secret' })))],
      www: untyped({ port: 8010, hots: 'x', zzz: 1 }),
    });
    (raw as Record<string, unknown>)['colapseRequests'] = false;
    expect(lines(raw)).toEqual([
      // No separate "password: required field is missing": the typo explains it.
      'workers[0].pasword: unknown key (did you mean "password"?)',
      'www.hots: unknown key (did you mean "host"?)',
      'www.zzz: unknown key; known keys: port, host, changeHooks',
      'colapseRequests: unknown key (did you mean "collapseRequests"?)',
    ]);
  });

  it('names the expected component when a value is of the wrong kind', () => {
    expect(
      lines(
        minimal({
          workers: untyped([builder(untyped({ name: 'x' })), 'linux-1']),
          builders: [
            builder({
              name: 'app',
              workerNames: ['linux-1'],
              factory: buildFactory(
                untyped([
                  { command: 'make' },
                  { type: 'shell', command: 'make' },
                  worker('w', { password: 'p' }),
                  'make',
                ]),
              ),
            }),
          ],
          schedulers: untyped([{ type: 'weekly', name: 'nightly' }]),
        }),
      ),
    ).toEqual([
      'workers[0]: expected a worker made by worker(name, { password }), got a builder made by builder({ ... })',
      'workers[1]: expected a worker made by worker(name, { password }), got "linux-1"',
      'builders[0].workerNames[0]: unknown worker "linux-1" (known: none)',
      'builders[0].factory.steps[0]: expected a step made by shellCommand({ command }), git({ repourl }) or another step factory (docs/config.md), got an object without a type',
      'builders[0].factory.steps[1].type: unknown step type "shell" (expected "shellCommand", "git", "shellSequence", "setProperty", "setPropertyFromCommand", "fileUpload", "directoryUpload", "fileDownload", "stringDownload", "makeDirectory", "removeDirectory", "masterShellCommand" or "trigger")',
      'builders[0].factory.steps[2]: expected a step made by shellCommand({ command }), git({ repourl }) or another step factory (docs/config.md), got a worker made by worker(name, { password })',
      'builders[0].factory.steps[3]: expected a step made by shellCommand({ command }) or git({ repourl }), got "make"',
      'schedulers[0].type: unknown scheduler type "weekly" (expected "force", "singleBranch", "anyBranch", "periodic", "nightly", "triggerable" or "dependent")',
    ]);
  });

  it('rejects a config that is not an object', () => {
    expect(lines(undefined)).toEqual([
      '(config): expected the config object made by defineConfig({ ... }), got nothing',
    ]);
    expect(lines([])).toEqual([
      '(config): expected the config object made by defineConfig({ ... }), got an empty list',
    ]);
  });

  it('checks names, commands, URLs and numbers', () => {
    expect(
      lines(
        minimal({
          workers: [
            worker('linux 1', { password: '' }),
            worker('debug', { password: 'x', maxBuilds: 0 }),
          ],
          builders: [
            builder({
              name: '_app',
              workerNames: [],
              factory: buildFactory([
                shellCommand({ command: [] }),
                shellCommand({ command: untyped(['make', 3]) }),
                shellCommand({ command: 'x', env: untyped({ CI: true }), maxTime: -1 }),
                shellCommand(untyped({ name: 'nothing' })),
              ]),
              priority: 1.5,
            }),
          ],
          schedulers: [forceScheduler({ name: 'force now', builderNames: [] })],
          db: { url: 'mysql://db/yardmaster' },
          properties: untyped({ callback: () => 1 }),
        }),
      ),
    ).toEqual([
      'workers[0].name: worker name "linux 1" is not an identifier: use letters, digits, "-" and "_", not starting with a digit',
      'workers[0].password: must not be empty',
      'workers[1].name: worker name "debug" is reserved; choose another name',
      'workers[1].maxBuilds: must be at least 1, got 0',
      'builders[0].name: builder name "_app" must not start with "_"',
      'builders[0].workerNames: must name at least one worker',
      'builders[0].factory.steps[0].command: must not be empty',
      'builders[0].factory.steps[1].command[1]: expected a string, got 3',
      'builders[0].factory.steps[2].env.CI: expected a string, got true',
      'builders[0].factory.steps[2].maxTime: must not be negative, got -1',
      'builders[0].factory.steps[3].command: required field is missing (expected a command: a string such as "make test" or a list such as ["make", "test"])',
      'builders[0].priority: expected a whole number, got 1.5',
      'schedulers[0].name: scheduler name "force now" is not an identifier: use letters, digits, "-" and "_", not starting with a digit',
      'schedulers[0].builderNames: must name at least one builder',
      'db.url: expected a database URL such as "sqlite:///path/state.sqlite" or "postgresql://user@host/db", got "mysql://db/yardmaster"',
      'properties.callback: expected a JSON value (string, number, true/false, null, list or plain object), got a function',
    ]);
  });

  it('checks git modes and methods as Buildbot does', () => {
    const steps = [
      git({ repourl: 'u', method: 'clobber' }),
      git({ repourl: 'u', mode: 'full', shallow: true }),
      git({ repourl: 'u', mode: 'full', method: 'clobber', shallow: untyped('yes') }),
    ];
    expect(
      lines(
        minimal({
          builders: [
            builder({ name: 'app', workerNames: ['linux-1'], factory: buildFactory(steps) }),
          ],
        }),
      ),
    ).toEqual([
      'builders[0].factory.steps[0].method: method "clobber" applies only to mode "full"; remove it or set mode: "full"',
      'builders[0].factory.steps[1].shallow: a shallow clone needs mode: "full" and method: "clobber"',
      'builders[0].factory.steps[2].shallow: expected true, false or a clone depth (a whole number of at least 1), got "yes"',
    ]);
  });

  it('checks force scheduler parameters', () => {
    expect(
      lines(
        minimal({
          schedulers: [
            forceScheduler({
              name: 'force',
              builderNames: ['app'],
              properties: untyped([
                { name: 'reason', type: 'string' },
                { name: 'choice', type: 'select' },
                { name: 'count', type: 'int', default: '3' },
                { name: 'count', type: 'bool' },
              ]),
            }),
          ],
        }),
      ),
    ).toEqual([
      'schedulers[0].properties[0].name: parameter name "reason" is reserved; choose another name',
      'schedulers[0].properties[1].type: expected a parameter such as { name: "target", type: "string" } (types: string, text, int, bool, choice, fixed, nested), got type "select"',
      'schedulers[0].properties[2].default: expected a number, got "3"',
      'schedulers[0].properties[3].name: duplicate parameter name "count" (also schedulers[0].properties[2])',
    ]);
  });
});

describe('validateConfig: cross-references', () => {
  it('reports duplicate worker, builder and scheduler names', () => {
    const app = builder({
      name: 'app',
      workerNames: ['linux-1'],
      factory: buildFactory([shellCommand({ command: 'make' })]),
    });
    expect(
      lines({
        workers: [
          worker('linux-1', { password: 'a' }),
          worker('linux-2', { password: 'b' }),
          worker('linux-1', { password: 'c' }),
        ],
        builders: [app, app],
        schedulers: [
          forceScheduler({ name: 'force', builderNames: ['app'] }),
          forceScheduler({ name: 'force', builderNames: ['app'] }),
        ],
      }),
    ).toEqual([
      'workers[2].name: duplicate worker name "linux-1" (also workers[0])',
      'builders[1].name: duplicate builder name "app" (also builders[0])',
      'schedulers[1].name: duplicate scheduler name "force" (also schedulers[0])',
    ]);
  });

  it('reports names listed twice and duplicate tags', () => {
    expect(
      lines(
        minimal({
          builders: [
            builder({
              name: 'app',
              workerNames: ['linux-1', 'linux-1'],
              tags: ['a', 'b', 'a'],
              factory: buildFactory([]),
            }),
          ],
          schedulers: [forceScheduler({ name: 'force', builderNames: ['app', 'app'] })],
        }),
      ),
    ).toEqual([
      'builders[0].workerNames[1]: worker "linux-1" is listed twice',
      'builders[0].tags[2]: tag "a" is listed twice',
      'schedulers[0].builderNames[1]: builder "app" is listed twice',
    ]);
  });

  it('still checks references when other parts of the config are broken', () => {
    expect(
      lines(
        minimal({
          workers: [worker('linux-1', { password: untyped(1) })],
          builders: [
            builder({ name: 'app', workerNames: ['linux-2'], factory: untyped(undefined) }),
          ],
        }),
      ),
    ).toEqual([
      'workers[0].password: expected a string, got 1',
      'builders[0].workerNames[0]: unknown worker "linux-2" (known: linux-1)',
      'builders[0].factory: required field is missing (expected a build factory made by buildFactory([...steps]))',
    ]);
  });
});

describe('validateConfig: normalized result', () => {
  it('fills in every default', () => {
    const config = validateConfig(
      defineConfig({
        workers: [worker('linux-1', { password: 'secret' })],
        builders: [
          builder({
            name: 'app',
            workerNames: ['linux-1'],
            factory: buildFactory([
              git({ repourl: 'https://example.com/app.git' }),
              shellCommand({ command: 'make test' }),
            ]),
          }),
        ],
        schedulers: [
          forceScheduler({
            name: 'force',
            builderNames: ['app'],
            properties: [
              { name: 'target', type: 'string' },
              { name: 'jobs', type: 'int' },
              { name: 'clean', type: 'bool', label: 'Clean build', required: true },
            ],
          }),
        ],
      }),
      'master.config.ts',
    );
    const stepDefaults = {
      description: null,
      descriptionDone: null,
      flunkOnFailure: true,
      warnOnFailure: false,
      warnOnWarnings: false,
      flunkOnWarnings: false,
      alwaysRun: false,
      doStepIf: true,
      hideStepIf: false,
      locks: [],
      workdir: 'build',
      env: {},
      timeout: 1_200_000,
      maxTime: null,
      logEnviron: true,
    };
    expect(config).toEqual({
      title: 'Yardmaster',
      workers: [
        { type: 'worker', name: 'linux-1', password: 'secret', maxBuilds: null, properties: {} },
      ],
      latentWorkers: [],
      builders: [
        {
          type: 'builder',
          name: 'app',
          workerNames: ['linux-1'],
          factory: {
            type: 'buildFactory',
            steps: [
              {
                type: 'git',
                name: 'git',
                repourl: 'https://example.com/app.git',
                branch: 'HEAD',
                mode: 'incremental',
                method: null,
                submodules: false,
                shallow: null,
                retryFetch: false,
                clobberOnFailure: false,
                ...stepDefaults,
                haltOnFailure: true,
              },
              {
                type: 'shellCommand',
                name: 'make',
                command: 'make test',
                wantStdout: true,
                wantStderr: true,
                logfiles: {},
                warningPattern: null,
                maxWarnCount: null,
                ...stepDefaults,
                haltOnFailure: false,
              },
            ],
          },
          tags: [],
          description: null,
          collapseRequests: true,
          properties: {},
          priority: 0,
          locks: [],
          nextWorker: null,
          nextBuild: null,
          canStartBuild: null,
        },
      ],
      schedulers: [
        {
          type: 'force',
          name: 'force',
          builderNames: ['app'],
          reason: 'force build',
          reasonString: "A build was forced by '%(owner)s': %(reason)s",
          label: 'force',
          buttonName: 'Start build',
          codebases: [
            {
              codebase: '',
              label: '',
              fields: ['branch', 'project', 'repository', 'revision'].map((name) => ({
                type: 'string',
                name,
                label: `${name.charAt(0).toUpperCase()}${name.slice(1)}:`,
                tablabel: `${name.charAt(0).toUpperCase()}${name.slice(1)}:`,
                required: false,
                hide: false,
                default: '',
                regex: null,
                maxsize: null,
                size: 10,
              })),
            },
          ],
          properties: [
            {
              type: 'string',
              name: 'target',
              label: 'target',
              tablabel: 'target',
              default: '',
              required: false,
              hide: false,
              regex: null,
              maxsize: null,
              size: 10,
            },
            {
              type: 'int',
              name: 'jobs',
              label: 'jobs',
              tablabel: 'jobs',
              default: 0,
              required: false,
              hide: false,
            },
            {
              type: 'bool',
              name: 'clean',
              label: 'Clean build',
              tablabel: 'Clean build',
              default: false,
              required: true,
              hide: false,
            },
          ],
        },
      ],
      changeSources: [],
      db: { url: null },
      www: {
        port: 8010,
        host: '127.0.0.1',
        changeHooks: { github: null, gitlab: null, base: null },
      },
      workerPort: 9989,
      workerHost: '127.0.0.1',
      collapseRequests: true,
      properties: {},
      secrets: null,
      reporters: [],
      buildbotURL: null,
    });
  });

  it('is plain JSON, so two configs compare with a deep equality', () => {
    const first = validateConfig(minimal(), 'a');
    const second = validateConfig(minimal(), 'b');
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
    expect(JSON.stringify(first)).toBe(JSON.stringify(second));
  });

  it('accepts a config without workers, builders or schedulers', () => {
    const config = validateConfig({}, 'master.config.ts');
    expect(config.workers).toEqual([]);
    expect(config.builders).toEqual([]);
    expect(config.schedulers).toEqual([]);
  });

  it('normalizes durations to milliseconds; null means no limit', () => {
    const config = validateConfig(
      minimal({
        builders: [
          builder({
            name: 'app',
            workerNames: ['linux-1'],
            factory: buildFactory([
              shellCommand({ command: 'a', timeout: '1h30m', maxTime: 90 }),
              shellCommand({ command: 'b', timeout: null, maxTime: '500ms' }),
            ]),
          }),
        ],
      }),
      'x',
    );
    const steps = config.builders[0]?.factory.steps;
    expect(steps?.map((step) => ('timeout' in step ? [step.timeout, step.maxTime] : null))).toEqual(
      [
        [5_400_000, 90_000],
        [null, 500],
      ],
    );
  });

  it('names shell steps after their program and makes step names unique as Buildbot does', () => {
    const config = validateConfig(
      minimal({
        builders: [
          builder({
            name: 'app',
            workerNames: ['linux-1'],
            factory: buildFactory({
              steps: [
                shellCommand({ command: 'make all' }),
                shellCommand({ command: ['/usr/bin/make', 'test'] }),
                shellCommand({ command: 'make install', name: 'make_1' }),
                shellCommand({ command: 'make' }),
                git({ repourl: 'u' }),
                git({ repourl: 'v' }),
                shellCommand({ command: ['npm', 'test'], name: 'unit tests' }),
              ],
            }),
          }),
        ],
      }),
      'x',
    );
    expect(config.builders[0]?.factory.steps.map((step) => step.name)).toEqual([
      'make',
      'make_2',
      'make_1',
      'make_3',
      'git',
      'git_1',
      'unit tests',
    ]);
  });

  it('gives each builder the global collapseRequests unless it sets its own', () => {
    const config = validateConfig(
      minimal({
        collapseRequests: false,
        builders: [
          builder({ name: 'a', workerNames: ['linux-1'], factory: buildFactory([]) }),
          builder({
            name: 'b',
            workerNames: ['linux-1'],
            factory: buildFactory([]),
            collapseRequests: true,
          }),
        ],
        schedulers: [],
      }),
      'x',
    );
    expect(config.collapseRequests).toBe(false);
    expect(config.builders.map((b) => b.collapseRequests)).toEqual([false, true]);
  });

  it('uses method "fresh" for mode "full" unless told otherwise', () => {
    const config = validateConfig(
      minimal({
        builders: [
          builder({
            name: 'app',
            workerNames: ['linux-1'],
            factory: buildFactory([
              git({ repourl: 'u', mode: 'full' }),
              git({ repourl: 'u', mode: 'full', method: 'clobber', shallow: 5, name: 'shallow' }),
            ]),
          }),
        ],
      }),
      'x',
    );
    const steps = config.builders[0]?.factory.steps ?? [];
    expect(steps.map((step) => (step.type === 'git' ? [step.method, step.shallow] : []))).toEqual([
      ['fresh', null],
      ['clobber', 5],
    ]);
  });

  it('does not change its input', () => {
    const raw = minimal();
    const copy = structuredClone(raw);
    validateConfig(raw, 'x');
    expect(raw).toEqual(copy);
  });
});
