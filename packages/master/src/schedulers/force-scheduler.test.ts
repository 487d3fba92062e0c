import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from '../data/data-api.js';
import { forceSchedulerSchema } from '../config/schema.js';
import { forceScheduler } from '../config/index.js';
import type { ForceSchedulerOptions } from '../config/types.js';
import { BadRequestError } from '../errors.js';
import { ForceScheduler } from './force-scheduler.js';

let handle: DatabaseHandle;
let data: DataApi;

beforeEach(async () => {
  handle = await openDatabase('sqlite://', '/tmp');
  data = new DataApi({ db: handle.db, bus: new InProcessBus(() => undefined), now: () => 1_000 });
  await data.builders.ensure('app', null, []);
  await data.builders.ensure('lib', null, []);
});

afterEach(async () => {
  await handle.close();
});

function scheduler(options: Partial<ForceSchedulerOptions> = {}): ForceScheduler {
  const config = forceSchedulerSchema.parse(
    forceScheduler({ name: 'force', builderNames: ['app', 'lib'], ...options }),
  );
  return new ForceScheduler(config, data);
}

const typed = {
  codebases: [
    'app',
    {
      codebase: 'lib',
      branch: { type: 'choice', name: 'branch', choices: ['main', 'stable'] },
      project: 'libproj',
      repository: null,
    },
  ],
  properties: [
    { type: 'string', name: 'target', default: 'all', regex: '^[a-z]+$' },
    { type: 'text', name: 'notes', maxsize: 10 },
    { type: 'int', name: 'jobs', default: 4 },
    { type: 'bool', name: 'clean' },
    { type: 'choice', name: 'flavours', choices: ['a', 'b', 'c'], multiple: true, default: ['a'] },
    { type: 'fixed', name: 'pinned', default: { v: 1 } },
    {
      type: 'nested',
      name: 'deploy',
      label: 'Deploy',
      fields: [
        { type: 'bool', name: 'enabled' },
        { type: 'choice', name: 'env', choices: ['staging', 'prod'], required: true },
      ],
    },
  ],
} as Partial<ForceSchedulerOptions>;

describe('force scheduler', () => {
  it("describes its form as Buildbot's all_fields: groups, full names, types", () => {
    const description = scheduler(typed).describe();
    expect(description).toMatchObject({
      name: 'force',
      label: 'force',
      button_name: 'Start build',
    });
    const [identity, app, lib, ...properties] = description.all_fields as Record<string, unknown>[];
    expect(identity).toMatchObject({ type: 'nested', name: '', fullName: '', columns: 1 });
    expect(
      (identity?.fields as { fullName: string; type: string }[]).map((f) => [f.fullName, f.type]),
    ).toEqual([
      ['username', 'text'],
      ['reason', 'text'],
    ]);
    expect(app).toMatchObject({ type: 'nested', name: 'app', label: 'Codebase: app', columns: 2 });
    expect((app?.fields as { fullName: string }[]).map((f) => f.fullName)).toEqual([
      'app_branch',
      'app_project',
      'app_repository',
      'app_revision',
    ]);
    expect(
      (lib?.fields as { fullName: string; type: string }[]).map((f) => [f.fullName, f.type]),
    ).toEqual([
      ['lib_branch', 'list'],
      ['lib_project', 'fixed'],
      ['lib_revision', 'text'],
    ]);
    expect(properties.map((p) => [p.fullName, p.type])).toEqual([
      ['target', 'text'],
      ['notes', 'textarea'],
      ['jobs', 'int'],
      ['clean', 'bool'],
      ['flavours', 'list'],
      ['pinned', 'fixed'],
      ['deploy', 'nested'],
    ]);
    expect(properties[0]).toMatchObject({
      default: 'all',
      regex: '^[a-z]+$',
      required: false,
      hide: false,
      size: 10,
    });
    expect(properties[4]).toMatchObject({ multiple: true, strict: true, choices: ['a', 'b', 'c'] });
    expect((properties[6]?.fields as { fullName: string }[]).map((f) => f.fullName)).toEqual([
      'deploy_enabled',
      'deploy_env',
    ]);
  });

  it('reports every bad value at once, by full name', async () => {
    const error = await scheduler(typed)
      .force(
        {
          target: 'UPPER',
          notes: 'far too long',
          jobs: 'many',
          clean: 'maybe',
          flavours: ['a', 'z'],
          lib_branch: 'dev',
          reason: 7,
        },
        null,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    const message = (error as Error).message;
    expect(message).toMatch(/^force scheduler "force" refused the request: /);
    for (const expected of [
      'reason: expected a string, got 7',
      "lib_branch: 'dev' does not belong to list of available choices 'main', 'stable'",
      "target: 'UPPER' does not match pattern '^[a-z]+$'",
      'notes: is too large 12 > 10',
      'jobs: expected an integer, got "many"',
      'clean: expected true or false, got "maybe"',
      "flavours: 'z' does not belong to list of available choices 'a', 'b', 'c'",
      "deploy_env: 'env' needs to be specified",
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('turns values into properties (groups as objects) and codebases into source stamps', async () => {
    const { buildsetid, buildrequestids } = await scheduler(typed).force(
      {
        builderNames: ['lib'],
        username: 'Ann <ann@example.invalid>',
        reason: 'try it',
        app_branch: 'feature',
        app_revision: 'abc',
        lib_branch: 'stable',
        jobs: '8',
        clean: true,
        flavours: ['b', 'c'],
        deploy_env: 'staging',
        ignored: 'x',
      },
      null,
    );
    expect(Object.keys(buildrequestids)).toHaveLength(1);
    const buildset = await data.buildsets.get(buildsetid);
    expect(buildset?.reason).toBe("A build was forced by 'Ann <ann@example.invalid>': try it");
    expect(
      buildset?.sourcestamps.map((s) => [s.codebase, s.branch, s.revision, s.project]),
    ).toEqual([
      ['app', 'feature', 'abc', ''],
      ['lib', 'stable', null, 'libproj'],
    ]);
    expect(await data.buildsets.properties(buildsetid)).toEqual({
      target: ['all', 'Force Build Form'],
      notes: ['', 'Force Build Form'],
      jobs: [8, 'Force Build Form'],
      clean: [true, 'Force Build Form'],
      flavours: [['b', 'c'], 'Force Build Form'],
      pinned: [{ v: 1 }, 'Force Build Form'],
      deploy: [{ enabled: false, env: 'staging' }, 'Force Build Form'],
      reason: ['try it', 'Force Build Form'],
      owner: ['Ann <ann@example.invalid>', 'Force Build Form'],
      scheduler: ['force', 'Scheduler'],
    });
  });

  it('keeps the plain form: reason, branch and revision at the top level', async () => {
    const { buildsetid } = await scheduler().force({ branch: 'main', revision: 'r1' }, 'bob');
    const buildset = await data.buildsets.get(buildsetid);
    expect(buildset?.sourcestamps[0]).toMatchObject({
      codebase: '',
      branch: 'main',
      revision: 'r1',
    });
    expect(buildset?.reason).toBe("A build was forced by 'bob': force build");
  });
});
