/**
 * The build steps on a real master and a real worker: shell sequences, properties with
 * their sources, transfers both ways, directories, commands on the master, doStepIf /
 * hideStepIf / alwaysRun, extra logs from logfiles, warning counting, worker info and
 * secrets (never stored). The builds of the scenarios run at once; each test checks the
 * stored rows of its own.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, waitFor } from '@yardmaster/testkit';
import {
  buildFactory,
  builder,
  directoryUpload,
  fileDownload,
  fileUpload,
  interpolate,
  makeDirectory,
  masterShellCommand,
  removeDirectory,
  renderer,
  setProperty,
  setPropertyFromCommand,
  shellCommand,
  shellSequence,
  stringDownload,
  worker,
} from '../config/factories.js';
import type { BuilderDescriptor } from '../config/types.js';
import { Results } from '../results.js';
import { startBuildFixture, type BuildFixture } from '../../test/build-fixture.js';

const SECRET = 'tok-9f8e7d6c';

let fixture: BuildFixture;
/** Build request id per scenario builder, submitted at once in beforeAll. */
const requests = new Map<string, number>();

const on = (name: string, steps: Parameters<typeof buildFactory>[0], extra = {}) =>
  builder({ name, workerNames: ['w1'], factory: buildFactory(steps), ...extra });

const builders: BuilderDescriptor[] = [
  on('sequence', [
    shellSequence({
      name: 'seq',
      commands: [
        { command: 'echo first' },
        {
          command: ['sh', '-c', 'echo second >&2; exit 2'],
          logname: 'second',
          flunkOnFailure: false,
          warnOnFailure: true,
        },
        { command: 'echo third' },
        { command: 'exit 1', haltOnFailure: true },
        { command: 'echo never' },
      ],
    }),
  ]),
  on(
    'props',
    [
      setProperty({
        name: 'greet',
        property: 'greeting',
        value: interpolate('hello %(prop:who)s'),
      }),
      setProperty({
        property: 'computed',
        value: renderer((props) => ({ twice: Number(props.getProperty('n')) * 2 })),
      }),
      setPropertyFromCommand({ name: 'rev', command: 'echo "  abc123  "', property: 'rev' }),
      setPropertyFromCommand({
        name: 'extract',
        command: 'echo out-text; echo err-text >&2; exit 3',
        extractFn: renderer((rc, stdout, stderr) => ({
          rc,
          out: stdout.trim(),
          err: stderr.trim(),
        })),
        flunkOnFailure: false,
      }),
      shellCommand({ name: 'use', command: interpolate('test "%(prop:rev)s" = abc123') }),
      shellCommand({ name: 'info', command: interpolate('echo basedir=%(worker:basedir)s') }),
    ],
    { properties: { who: 'builder-default', level: 'builder' } },
  ),
  on('transfers', [
    makeDirectory({ dir: 'build/out/sub' }),
    stringDownload({ s: interpolate('data for %(prop:who)s\n'), workerdest: 'in/data.txt' }),
    fileDownload({ mastersrc: 'master-files/tool.sh', workerdest: 'tool.sh', mode: 0o755 }),
    shellCommand({
      name: 'make',
      command: './tool.sh > out/result.txt && cp in/data.txt out/ && echo deep > out/sub/deep.txt',
    }),
    fileUpload({
      workersrc: 'out/result.txt',
      masterdest: interpolate('uploads/%(prop:buildnumber)s/result.txt'),
      url: 'http://example.invalid/result.txt',
      urlText: 'result',
      mode: 0o640,
    }),
    directoryUpload({ workersrc: 'out', masterdest: 'uploads/site', compress: 'gz' }),
    fileUpload({
      name: 'missing',
      workersrc: 'nope.txt',
      masterdest: 'uploads/nope.txt',
      flunkOnFailure: false,
    }),
    removeDirectory({ dir: 'build/out' }),
    shellCommand({ name: 'gone', command: 'test ! -e out' }),
  ]),
  on('conditions', [
    shellCommand({ name: 'skipped', command: 'echo no', doStepIf: false }),
    shellCommand({
      name: 'by-property',
      command: 'echo yes',
      doStepIf: renderer((props) => props.getProperty('run') === 'yes'),
    }),
    shellCommand({
      name: 'hidden',
      command: 'true',
      hideStepIf: renderer((_props, results) => results === 0),
    }),
    shellCommand({ name: 'fails', command: 'exit 1', haltOnFailure: true }),
    shellCommand({ name: 'after', command: 'echo after' }),
    shellCommand({ name: 'cleanup', command: 'echo cleanup', alwaysRun: true }),
  ]),
  on('warnings', [
    shellCommand({
      name: 'compile',
      command: 'echo "warning: a"; echo fine; echo "warning: b" >&2',
      warningPattern: '^warning: ',
      warnOnWarnings: true,
    }),
    shellCommand({
      name: 'lint',
      command: 'for i in 1 2 3; do echo "Warning: $i"; done',
      warningPattern: true,
      maxWarnCount: 1,
      flunkOnFailure: false,
    }),
  ]),
  on('logfiles', [
    shellCommand({
      name: 'trace',
      command: 'for i in 1 2 3; do echo "line $i" >> trace.log; sleep 0.2; done; echo done',
      logfiles: { trace: 'trace.log' },
    }),
  ]),
  on('secrets', [
    shellCommand({
      name: 'use-secret',
      command: interpolate('echo token=%(secret:api_token)s; echo "env=$TOKEN"'),
      env: { TOKEN: interpolate('%(secret:api_token)s') },
    }),
    setProperty({ name: 'keep', property: 'copied', value: interpolate('x-%(secret:api_token)s') }),
    shellCommand({ name: 'missing-secret', command: interpolate('echo %(secret:nope)s') }),
  ]),
  on('master', [
    masterShellCommand({
      name: 'on-master',
      command: interpolate('echo "on master for %(prop:buildername)s: $GREETING"; pwd'),
      env: { GREETING: 'hi ${USER_SUFFIX}' },
    }),
    masterShellCommand({
      name: 'master-fails',
      command: ['sh', '-c', 'exit 4'],
      haltOnFailure: false,
    }),
  ]),
  on('master-sleep', [masterShellCommand({ name: 'sleeper', command: 'sleep 30' })]),
];

beforeAll(async () => {
  const secrets = await makeTempDir('ym-secrets-');
  writeFileSync(path.join(secrets, 'api_token'), `${SECRET}\n`);
  const basedir = await makeTempDir('ym-steps-');
  mkdirSync(path.join(basedir, 'master-files'));
  writeFileSync(path.join(basedir, 'master-files/tool.sh'), '#!/bin/sh\necho tool ran\n');
  chmodSync(path.join(basedir, 'master-files/tool.sh'), 0o644);
  fixture = await startBuildFixture(
    {
      workers: [worker('w1', { password: 'pw1', properties: { level: 'worker', os: 'linux' } })],
      builders,
      properties: { level: 'global', site: 'test-site' },
      secrets: { provider: 'files', dir: secrets },
    },
    { basedir },
  );
  fixture.startWorker('w1', 'pw1');
  for (const b of builders) {
    const [brid] = await fixture.submit(b.name, {
      properties: { who: 'bob', n: 21, run: 'yes' },
      sourcestamp: {
        branch: 'main',
        revision: 'r1',
        repository: 'https://example.invalid/app.git',
      },
    });
    requests.set(b.name, brid ?? 0);
  }
});

afterAll(async () => {
  await fixture.stop();
});

const buildOf = (name: string) => fixture.buildOf(requests.get(name) ?? 0);
const byName = async (buildid: number) =>
  new Map((await fixture.steps(buildid)).map((step) => [step.name, step]));

describe('steps on a real worker', () => {
  it('shellSequence: commands in turn, per-command flags and logs, halt ends the sequence', async () => {
    const build = await buildOf('sequence');
    const seq = (await byName(build.buildid)).get('seq');
    expect(seq?.results).toBe(Results.FAILURE);
    expect(build.results).toBe(Results.FAILURE);
    const stdio = await fixture.log(build.buildid, 'seq');
    expect(stdio).toContain('first\n');
    expect(stdio).toContain('third\n');
    expect(stdio).not.toContain('never');
    expect(await fixture.log(build.buildid, 'seq', 'second')).toContain('second\n');
  });

  it('properties keep their sources; setProperty and setPropertyFromCommand set them for later steps', async () => {
    const build = await buildOf('props');
    expect(build.results).toBe(Results.SUCCESS);
    const props = await fixture.properties(build.buildid);
    expect(props.site).toEqual(['test-site', 'Global']);
    expect(props.level).toEqual(['worker', 'Worker']);
    expect(props.who).toEqual(['bob', 'test']);
    expect(props.os).toEqual(['linux', 'Worker']);
    expect(props.buildername).toEqual(['props', 'Builder']);
    expect(props.workername).toEqual(['w1', 'Worker']);
    expect(props.branch).toEqual(['main', 'Build']);
    expect(props.greeting).toEqual(['hello bob', 'greet']);
    expect(props.computed).toEqual([{ twice: 42 }, 'SetProperty']);
    expect(props.rev).toEqual(['abc123', 'SetPropertyFromCommand Step']);
    expect(props.rc).toEqual([3, 'SetPropertyFromCommand Step']);
    expect(props.out).toEqual(['out-text', 'SetPropertyFromCommand Step']);
    expect(props.err).toEqual(['err-text', 'SetPropertyFromCommand Step']);
    const steps = await byName(build.buildid);
    expect(steps.get('rev')?.state_string).toBe("property 'rev' set");
    expect(steps.get('extract')?.results).toBe(Results.FAILURE);
    expect(await fixture.log(build.buildid, 'rev', 'property changes')).toBe("rev: 'abc123'\n");
    const basedir = path.join(fixture.basedir, 'worker-w1');
    expect(await fixture.log(build.buildid, 'info')).toContain(`basedir=${basedir}\n`);
  });

  it('transfers: downloads to the worker, uploads to the master, directories made and removed', async () => {
    const build = await buildOf('transfers');
    const steps = await byName(build.buildid);
    expect(build.results).toBe(Results.SUCCESS);
    expect(steps.get('missing')?.results).toBe(Results.FAILURE);
    const base = fixture.basedir;
    const result = path.join(base, `uploads/${build.number}/result.txt`);
    expect(readFileSync(result, 'utf8')).toBe('tool ran\n');
    expect((await import('node:fs')).statSync(result).mode & 0o777).toBe(0o640);
    expect(readFileSync(path.join(base, 'uploads/site/data.txt'), 'utf8')).toBe('data for bob\n');
    expect(readFileSync(path.join(base, 'uploads/site/sub/deep.txt'), 'utf8')).toBe('deep\n');
    expect(existsSync(path.join(base, 'uploads/nope.txt'))).toBe(false);
    expect(steps.get('upload')?.urls).toEqual([
      { name: 'result', url: 'http://example.invalid/result.txt' },
    ]);
    expect(await fixture.log(build.buildid, 'missing')).toContain('Cannot open file');
    expect(steps.get('gone')?.results).toBe(Results.SUCCESS);
  });

  it('doStepIf skips, hideStepIf hides, haltOnFailure stops and alwaysRun still runs', async () => {
    const build = await buildOf('conditions');
    const steps = await byName(build.buildid);
    expect(steps.get('skipped')?.results).toBe(Results.SKIPPED);
    expect(steps.get('by-property')?.results).toBe(Results.SUCCESS);
    expect(steps.get('hidden')?.hidden).toBe(true);
    expect(steps.get('by-property')?.hidden).toBe(false);
    expect(steps.get('fails')?.results).toBe(Results.FAILURE);
    expect(steps.has('after')).toBe(false);
    expect(steps.get('cleanup')?.results).toBe(Results.SUCCESS);
    expect(build.results).toBe(Results.FAILURE);
  });

  it('warning counting: WARNINGS with a log of the lines, FAILURE beyond maxWarnCount', async () => {
    const build = await buildOf('warnings');
    const steps = await byName(build.buildid);
    expect(steps.get('compile')?.results).toBe(Results.WARNINGS);
    expect(steps.get('lint')?.results).toBe(Results.FAILURE);
    expect(build.results).toBe(Results.WARNINGS);
    expect(await fixture.log(build.buildid, 'compile', 'warnings (2)')).toBe(
      'warning: a\nwarning: b\n',
    );
    const props = await fixture.properties(build.buildid);
    expect(props['warnings-count']).toEqual([5, 'WarningCountingShellCommand']);
  });

  it('logfiles: a watched file on the worker becomes a log of its own', async () => {
    const build = await buildOf('logfiles');
    expect(build.results).toBe(Results.SUCCESS);
    expect(await fixture.log(build.buildid, 'trace', 'trace')).toBe('line 1\nline 2\nline 3\n');
    expect(await fixture.log(build.buildid, 'trace')).toContain('done\n');
  });

  it('secrets reach the command but never a stored log line, property or state', async () => {
    const build = await buildOf('secrets');
    const steps = await byName(build.buildid);
    expect(steps.get('use-secret')?.results).toBe(Results.SUCCESS);
    const stored = await fixture.storedLog(build.buildid, 'use-secret');
    expect(stored).toContain('otoken=<api_token>\n');
    expect(stored).toContain('oenv=<api_token>\n');
    expect(stored).toContain('TOKEN=<api_token>');
    expect(stored).not.toContain(SECRET);
    expect(steps.get('use-secret')?.state_string).toBe(
      "'echo token=<api_token>; echo \"env=$TO...'",
    );
    const props = await fixture.properties(build.buildid);
    expect(props.copied).toEqual(['x-<api_token>', 'keep']);
    expect(JSON.stringify(props)).not.toContain(SECRET);
    expect(steps.get('missing-secret')?.results).toBe(Results.EXCEPTION);
    expect(steps.get('missing-secret')?.state_string).toMatch(
      /secret "nope" not found: cannot read/,
    );
    expect(build.results).toBe(Results.EXCEPTION);
  });

  it('masterShellCommand runs on the master in its basedir, with env expansion', async () => {
    const build = await buildOf('master');
    const steps = await byName(build.buildid);
    expect(steps.get('on-master')?.results).toBe(Results.SUCCESS);
    const out = await fixture.log(build.buildid, 'on-master');
    expect(out).toContain('on master for master: hi \n');
    expect(out).toContain(`${fixture.basedir}\n`);
    expect(out).toContain('program finished with exit code 0');
    expect(steps.get('master-fails')?.results).toBe(Results.FAILURE);
  });

  it('a stopped build kills its masterShellCommand at once', async () => {
    const running = await fixture.buildOf(
      requests.get('master-sleep') ?? 0,
      (b) => !b.complete && b.state_string === 'building',
    );
    // The headers are written just before the child is spawned.
    await waitFor(
      async () => (await fixture.log(running.buildid, 'sleeper')).includes(' in dir '),
      {
        message: 'the sleeper started',
      },
    );
    await fixture.master.stopBuild(running.buildid, 'test stop');
    const build = await buildOf('master-sleep');
    expect(build.results).toBe(Results.CANCELLED);
    expect((await byName(build.buildid)).get('sleeper')?.results).toBe(Results.CANCELLED);
    expect(await fixture.log(build.buildid, 'sleeper')).toContain('command interrupted: test stop');
  });
});
