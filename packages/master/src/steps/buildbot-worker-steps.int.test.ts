/**
 * The transfer, directory and logfiles steps against an unmodified buildbot-worker 3.7
 * (msgpack_experimental_v7): the master's side of upload_file (with keepstamp),
 * upload_directory (plain and gzip'd tar with Python's root entry), download_file, mkdir,
 * rmdir and shell `logfiles` works with Buildbot's own worker too.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTempDir, spawnProcess, type SpawnedProcess } from '@yardmaster/testkit';
import {
  buildFactory,
  builder,
  directoryUpload,
  fileDownload,
  fileUpload,
  makeDirectory,
  removeDirectory,
  shellCommand,
  stringDownload,
  worker,
} from '../config/factories.js';
import { Results } from '../results.js';
import { startBuildFixture, type BuildFixture } from '../../test/build-fixture.js';

let fixture: BuildFixture;
let buildbotWorker: SpawnedProcess | undefined;

beforeAll(async () => {
  const basedir = await makeTempDir('ym-bbw-steps-');
  mkdirSync(path.join(basedir, 'tools'));
  writeFileSync(path.join(basedir, 'tools/tool.sh'), '#!/bin/sh\necho tool ran\n');
  chmodSync(path.join(basedir, 'tools/tool.sh'), 0o644);
  fixture = await startBuildFixture(
    {
      workers: [worker('bb', { password: 'pw' })],
      builders: [
        builder({
          name: 'transfers',
          workerNames: ['bb'],
          factory: buildFactory([
            makeDirectory({ dir: 'build/out/sub' }),
            stringDownload({ s: 'data\n', workerdest: 'in/data.txt' }),
            fileDownload({ mastersrc: 'tools/tool.sh', workerdest: 'tool.sh', mode: 0o755 }),
            shellCommand({
              name: 'make',
              command:
                './tool.sh > out/result.txt && cp in/data.txt out/ && echo deep > out/sub/deep.txt; for i in 1 2; do echo l$i >> trace.log; sleep 0.3; done',
              logfiles: { trace: 'trace.log' },
            }),
            fileUpload({
              workersrc: 'out/result.txt',
              masterdest: 'up/result.txt',
              keepstamp: true,
            }),
            directoryUpload({ workersrc: 'out', masterdest: 'up/site', compress: 'gz' }),
            directoryUpload({ name: 'plain', workersrc: 'out', masterdest: 'up/plain' }),
            removeDirectory({ dir: 'build/out' }),
            shellCommand({ name: 'gone', command: 'test ! -e out' }),
          ]),
        }),
      ],
    },
    { basedir },
  );
  const workerDir = await makeTempDir('ym-bbw-');
  const create = spawnProcess(
    'buildbot-worker',
    [
      'create-worker',
      '--protocol=msgpack_experimental_v7',
      '--umask=0o22',
      workerDir,
      `127.0.0.1:${fixture.master.workerPort}`,
      'bb',
      'pw',
    ],
    { name: 'buildbot-worker create-worker' },
  );
  const created = await create.exited;
  if (created.code !== 0) throw new Error(`create-worker failed:\n${create.output()}`);
  buildbotWorker = spawnProcess('buildbot-worker', ['start', '--nodaemon', workerDir], {
    name: 'buildbot-worker bb',
    env: { PYTHONUNBUFFERED: '1' },
  });
});

afterAll(async () => {
  await fixture.stop();
  await buildbotWorker?.stop();
});

it('uploads, downloads, directories and logfiles work with buildbot-worker', async () => {
  const [brid] = await fixture.submit('transfers');
  const build = await fixture.buildOf(brid ?? 0);
  const steps = await fixture.steps(build.buildid);
  expect(steps.map((s) => [s.name, s.results])).toEqual([
    ['worker_preparation', Results.SUCCESS],
    ['MakeDirectory', Results.SUCCESS],
    ['string_download', Results.SUCCESS],
    ['download', Results.SUCCESS],
    ['make', Results.SUCCESS],
    ['upload', Results.SUCCESS],
    ['upload_1', Results.SUCCESS],
    ['plain', Results.SUCCESS],
    ['RemoveDirectory', Results.SUCCESS],
    ['gone', Results.SUCCESS],
  ]);
  const base = fixture.basedir;
  expect(readFileSync(path.join(base, 'up/result.txt'), 'utf8')).toBe('tool ran\n');
  expect(readFileSync(path.join(base, 'up/site/sub/deep.txt'), 'utf8')).toBe('deep\n');
  expect(readFileSync(path.join(base, 'up/plain/data.txt'), 'utf8')).toBe('data\n');
  expect(await fixture.log(build.buildid, 'make', 'trace')).toBe('l1\nl2\n');
});
