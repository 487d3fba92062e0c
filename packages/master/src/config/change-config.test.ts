/**
 * Config of change sources, change hooks, the new schedulers and the trigger step: what
 * each factory normalizes to, and the problems `validateConfig` reports for them.
 */
import { describe, expect, it } from 'vitest';
import {
  anyBranchScheduler,
  buildFactory,
  builder,
  changeFilter,
  defineConfig,
  dependent,
  forceScheduler,
  gitPoller,
  nightly,
  periodic,
  shellCommand,
  singleBranchScheduler,
  trigger,
  triggerable,
  validateConfig,
  worker,
  type MasterConfigInput,
} from './index.js';
import { ConfigError } from './config-error.js';

function config(extra: Partial<MasterConfigInput>): MasterConfigInput {
  return defineConfig({
    workers: [worker('w1', { password: 'pw' })],
    builders: [
      builder({
        name: 'app',
        workerNames: ['w1'],
        factory: buildFactory([shellCommand({ command: 'make' })]),
      }),
    ],
    ...extra,
  });
}

function problems(input: MasterConfigInput): string[] {
  try {
    validateConfig(input, 'master.config.ts');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

const untyped = <T>(value: unknown) => value as T;

describe('change sources and hooks', () => {
  it('normalizes a git poller and its branch selections', () => {
    const result = validateConfig(
      config({
        changeSources: [
          gitPoller({ repourl: 'https://example.invalid/a.git' }),
          gitPoller({ name: 'b', repourl: 'b.git', branches: true, pollInterval: '30s' }),
          gitPoller({ name: 'c', repourl: 'c.git', branches: { match: '^refs/heads/rel' } }),
          gitPoller({ name: 'd', repourl: 'd.git', branches: '^refs/tags/v', codebase: 'd' }),
          gitPoller({ name: 'e', repourl: 'e.git', onlyTags: true }),
          gitPoller({ name: 'f', repourl: 'f.git', branch: 'main', pollAtLaunch: true }),
        ],
      }),
      'master.config.ts',
    );
    expect(result.changeSources[0]).toEqual({
      type: 'gitPoller',
      name: 'https://example.invalid/a.git',
      repourl: 'https://example.invalid/a.git',
      branches: { kind: 'list', names: ['master'] },
      onlyTags: false,
      pollInterval: 600_000,
      pollAtLaunch: false,
      workdir: 'gitpoller-work',
      category: null,
      project: '',
      codebase: '',
      buildPushesWithNoCommits: false,
      usetimestamps: true,
      gitbin: 'git',
    });
    expect(result.changeSources.map((s) => [s.name, s.branches, s.pollInterval])).toEqual([
      ['https://example.invalid/a.git', { kind: 'list', names: ['master'] }, 600_000],
      ['b', { kind: 'all' }, 30_000],
      ['c', { kind: 'match', pattern: '^refs/heads/rel' }, 600_000],
      ['d', { kind: 'match', pattern: '^refs/tags/v' }, 600_000],
      ['e', { kind: 'list', names: ['master'] }, 600_000],
      ['f', { kind: 'list', names: ['main'] }, 600_000],
    ]);
  });

  it('reports bad pollers and duplicate names', () => {
    expect(
      problems(
        config({
          changeSources: [
            gitPoller({ repourl: 'a.git', branch: 'main', branches: ['dev'] }),
            gitPoller({ repourl: 'a.git', onlyTags: true, branches: true }),
            gitPoller({ name: 'x', repourl: 'x.git', branches: '(' }),
            gitPoller({ name: 'y', repourl: 'y.git', pollInterval: 0 }),
            gitPoller({ name: 'z', repourl: 'z.git', brnaches: true } as never),
          ],
        }),
      ),
    ).toEqual([
      'changeSources[0].branch: give either branch or branches, not both',
      'changeSources[1].name: duplicate change source name "a.git" (also changeSources[0])',
      'changeSources[1].onlyTags: onlyTags follows tags: leave out branch and branches',
      expect.stringMatching(/^changeSources\[2\]\.branches: not a valid regular expression/),
      'changeSources[3].pollInterval: must be longer than 0',
      'changeSources[4].brnaches: unknown key (did you mean "branches"?)',
    ]);
  });

  it('enables the change hooks it is given; github is strict when it has a secret', () => {
    const result = validateConfig(
      config({ www: { changeHooks: { github: { secret: 's' }, base: {} } } }),
      'master.config.ts',
    );
    expect(result.www.changeHooks).toEqual({
      github: {
        secret: 's',
        strict: true,
        codebase: null,
        skips: ['\\[ *skip *ci *\\]', '\\[ *ci *skip *\\]'],
        pullrequestRef: 'merge',
      },
      gitlab: null,
      base: { auth: null },
    });
    expect(problems(config({ www: { changeHooks: { github: { strict: true } } } }))).toEqual([
      'www.changeHooks.github.strict: strict needs a secret to check signatures with',
    ]);
    expect(problems(config({ www: { changeHooks: untyped({ bitbucket: {} }) } }))).toEqual([
      'www.changeHooks.bitbucket: unknown key; known keys: github, gitlab, base',
    ]);
  });
});

describe('schedulers', () => {
  it('normalizes change filters, codebases, timers and reasons', () => {
    const result = validateConfig(
      config({
        schedulers: [
          singleBranchScheduler({
            name: 'main',
            builderNames: ['app'],
            branch: 'main',
            treeStableTimer: '2m',
            fileIsImportant: { files: ['src/**'] },
            codebases: ['lib', 'app'],
          }),
          anyBranchScheduler({
            name: 'any',
            builderNames: ['app'],
            changeFilter: changeFilter({ branchRe: '^feature/', propertyEq: { event: 'push' } }),
          }),
          periodic({ name: 'hourly', builderNames: ['app'], periodicBuildTimer: '1h' }),
          nightly({ name: 'nightly', builderNames: ['app'], hour: 3, dayOfWeek: '0-4' }),
          nightly({
            name: 'cron',
            builderNames: ['app'],
            cron: '30  2 * * *',
            onlyIfChanged: true,
          }),
          triggerable({ name: 'tests', builderNames: ['app'] }),
          dependent({ name: 'after', builderNames: ['app'], upstream: 'main' }),
        ],
      }),
      'master.config.ts',
    );
    const [main, any, hourly, weekdays, cron, tests, after] = result.schedulers;
    expect(main).toMatchObject({
      type: 'singleBranch',
      treeStableTimer: 120_000,
      fileIsImportant: { files: ['src/**'], notFiles: [] },
      reason: "The SingleBranchScheduler scheduler named 'main' triggered this build",
      codebases: {
        app: { repository: '', branch: null, revision: null },
        lib: { repository: '', branch: null, revision: null },
      },
      changeFilter: {
        type: 'changeFilter',
        conditions: [{ field: 'branch', eq: ['main'], notEq: null, re: null, notRe: null }],
      },
    });
    expect(Object.keys(main?.type === 'singleBranch' ? main.codebases : {})).toEqual([
      'app',
      'lib',
    ]);
    expect(any).toMatchObject({
      treeStableTimer: null,
      codebases: { '': { repository: '', branch: null, revision: null } },
      changeFilter: {
        conditions: [
          { field: 'branch', eq: null, notEq: null, re: ['^feature/'], notRe: null },
          { field: 'property:event', eq: ['push'], notEq: null, re: null, notRe: null },
        ],
      },
    });
    expect(hourly).toMatchObject({
      type: 'periodic',
      periodicBuildTimer: 3_600_000,
      onlyIfChanged: false,
    });
    expect(weekdays).toMatchObject({ type: 'nightly', cron: '0 3 * * 1-5', timezone: 'local' });
    expect(cron).toMatchObject({ cron: '30 2 * * *', onlyIfChanged: true });
    expect(tests).toMatchObject({ type: 'triggerable', reason: null, properties: {}, priority: 0 });
    expect(after).toMatchObject({ type: 'dependent', upstream: 'main' });
  });

  it('reports what each scheduler is missing or has wrong, and bad references', () => {
    expect(
      problems(
        config({
          schedulers: [
            singleBranchScheduler({ name: 'nobranch', builderNames: ['app'] }),
            singleBranchScheduler({
              name: 'both',
              builderNames: ['app'],
              branch: 'main',
              changeFilter: changeFilter({ branch: 'dev' }),
            }),
            anyBranchScheduler({
              name: 'badre',
              builderNames: ['app'],
              changeFilter: changeFilter({ branchRe: '[' }),
            }),
            periodic(untyped({ name: 'noperiod', builderNames: ['app'] })),
            nightly({ name: 'badcron', builderNames: ['app'], cron: '0 25 * * *' }),
            nightly({ name: 'mixed', builderNames: ['app'], cron: '0 3 * * *', hour: 4 }),
            dependent({ name: 'loop', builderNames: ['app'], upstream: 'loop' }),
            dependent({ name: 'lost', builderNames: ['nope'], upstream: 'nowhere' }),
          ],
        }),
      ),
    ).toEqual([
      'schedulers[0].branch: required field is missing (give the branch to follow, or a changeFilter)',
      'schedulers[1].branch: give either branch or changeFilter, not both (put the branch in the filter)',
      expect.stringMatching(
        /^schedulers\[2\]\.changeFilter\.branchRe: not a valid regular expression/,
      ),
      'schedulers[3].periodicBuildTimer: required field is missing (expected a duration such as "1h")',
      'schedulers[4].cron: schedule "0 25 * * *": hour: 25 is outside 0-23',
      'schedulers[5].cron: give either cron or the fields (hour), not both',
      'schedulers[6].upstream: a scheduler cannot depend on itself',
      'schedulers[7].builderNames[0]: unknown builder "nope" (known: app)',
      'schedulers[7].upstream: unknown scheduler "nowhere" (known: nobranch, both, badre, noperiod, badcron, mixed, loop, lost)',
    ]);
  });

  it('checks typed force parameters, codebases and groups', () => {
    expect(
      problems(
        config({
          schedulers: [
            forceScheduler({
              name: 'force',
              builderNames: ['app'],
              properties: untyped([
                { type: 'choice', name: 'env', choices: ['a'], default: 'b' },
                { type: 'string', name: 'x', regex: '(' },
                {
                  type: 'nested',
                  name: 'group',
                  fields: [{ type: 'int', name: 'n', default: 'one' }],
                },
              ]),
            }),
          ],
        }),
      ),
    ).toEqual([
      'schedulers[0].properties[0].default: "b" is not one of the choices',
      expect.stringMatching(
        /^schedulers\[0\]\.properties\[1\]\.regex: not a valid regular expression/,
      ),
      'schedulers[0].properties[2].fields[0].default: expected a number, got "one"',
    ]);
    expect(
      problems(
        config({
          schedulers: [
            forceScheduler({ name: 'force', builderNames: ['app'], codebases: ['', ''] }),
          ],
        }),
      ),
    ).toEqual(['schedulers[0].codebases[1]: codebase "" is listed twice']);
  });
});

describe('the trigger step', () => {
  it('defaults as Buildbot: updateSourceStamp unless alwaysUseLatest or sourceStamps', () => {
    const result = validateConfig(
      config({
        builders: [
          builder({
            name: 'app',
            workerNames: ['w1'],
            factory: buildFactory([
              trigger({ schedulerNames: ['tests'] }),
              trigger({ schedulerNames: ['tests'], alwaysUseLatest: true, waitForFinish: true }),
              trigger({
                schedulerNames: ['tests'],
                sourceStamps: [{ codebase: 'x', branch: 'b' }],
              }),
            ]),
          }),
        ],
        schedulers: [triggerable({ name: 'tests', builderNames: ['app'] })],
      }),
      'master.config.ts',
    );
    const steps = result.builders[0]?.factory.steps ?? [];
    expect(steps.map((s) => s.name)).toEqual(['trigger', 'trigger_1', 'trigger_2']);
    expect(steps[0]).toMatchObject({
      type: 'trigger',
      updateSourceStamp: true,
      alwaysUseLatest: false,
      waitForFinish: false,
      parentRelationship: 'Triggered from',
      setProperties: {},
      copyProperties: [],
    });
    expect(steps[1]).toMatchObject({
      updateSourceStamp: false,
      alwaysUseLatest: true,
      waitForFinish: true,
    });
    expect(steps[2]).toMatchObject({
      updateSourceStamp: false,
      sourceStamps: [{ codebase: 'x', branch: 'b', revision: null, repository: '', project: '' }],
    });
  });

  it('names only triggerable schedulers and refuses conflicting options', () => {
    expect(
      problems(
        config({
          builders: [
            builder({
              name: 'app',
              workerNames: ['w1'],
              factory: buildFactory([
                trigger({ schedulerNames: ['force', 'nope'] }),
                trigger({
                  schedulerNames: ['tests'],
                  alwaysUseLatest: true,
                  updateSourceStamp: false,
                }),
                trigger({ schedulerNames: ['tests'], unimportantSchedulerNames: ['other'] }),
              ]),
            }),
          ],
          schedulers: [
            forceScheduler({ name: 'force', builderNames: ['app'] }),
            triggerable({ name: 'tests', builderNames: ['app'] }),
          ],
        }),
      ),
    ).toEqual([
      'builders[0].factory.steps[0].schedulerNames[0]: unknown triggerable scheduler "force" (known: tests)',
      'builders[0].factory.steps[0].schedulerNames[1]: unknown triggerable scheduler "nope" (known: tests)',
      'builders[0].factory.steps[1].updateSourceStamp: give either alwaysUseLatest or updateSourceStamp, not both',
      'builders[0].factory.steps[2].unimportantSchedulerNames[0]: "other" is not one of schedulerNames',
    ]);
  });
});
