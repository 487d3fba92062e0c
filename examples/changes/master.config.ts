/**
 * Building from changes: a git poller and the GitHub, GitLab and base change hooks feed
 * changes to every kind of scheduler.
 *
 * - `main` builds each push to `main` once the tree has been quiet for a minute (only
 *   when something under src/ changed), then triggers the test suite and waits for it;
 * - `branches` builds every other branch, each on its own;
 * - `deploy` runs after a successful `main` buildset, on the same sources;
 * - `nightly` builds `main` at 03:00 on weekdays if it changed; `hourly` builds the docs
 *   every hour;
 * - `force` is the web form, with typed parameters.
 *
 * Secrets come from the environment: the config is code. Send a change by hand with
 * `yardmaster sendchange --master http://127.0.0.1:8010 --auth change:PASSWORD --who me
 * --branch main --revision HEAD`.
 */
import {
  anyBranchScheduler,
  buildFactory,
  builder,
  changeFilter,
  defineConfig,
  dependent,
  forceScheduler,
  git,
  gitPoller,
  interpolate,
  nightly,
  periodic,
  shellCommand,
  singleBranchScheduler,
  trigger,
  triggerable,
  worker,
} from '@yardmaster/master';

const REPO = 'https://github.com/example/app.git';

export default defineConfig({
  title: 'Changes CI',
  workers: [
    worker('linux-1', { password: process.env.LINUX_1_PASSWORD ?? 'change-me-1', maxBuilds: 2 }),
  ],
  builders: [
    builder({
      name: 'app',
      workerNames: ['linux-1'],
      factory: buildFactory([
        git({ repourl: REPO, mode: 'full', method: 'fresh' }),
        shellCommand({
          name: 'build',
          command: interpolate('make BRANCH=%(src::branch)s REVISION=%(src::revision)s'),
        }),
        trigger({
          schedulerNames: ['tests'],
          waitForFinish: true,
          setProperties: { parent: interpolate('%(prop:buildername)s #%(prop:buildnumber)s') },
        }),
      ]),
    }),
    builder({
      name: 'tests',
      workerNames: ['linux-1'],
      factory: buildFactory([
        git({ repourl: REPO, mode: 'full', method: 'fresh' }),
        shellCommand({ name: 'test', command: 'make test' }),
      ]),
    }),
    builder({
      name: 'deploy',
      workerNames: ['linux-1'],
      factory: buildFactory([shellCommand({ command: interpolate('./deploy %(src::revision)s') })]),
    }),
    builder({
      name: 'docs',
      workerNames: ['linux-1'],
      factory: buildFactory([
        git({ repourl: REPO, branch: 'main' }),
        shellCommand({ command: 'make docs' }),
      ]),
    }),
  ],
  changeSources: [
    gitPoller({ repourl: REPO, branches: true, pollInterval: '5m', pollAtLaunch: true }),
  ],
  www: {
    changeHooks: {
      github: { secret: process.env.GITHUB_HOOK_SECRET ?? 'change-me' },
      gitlab: { secret: process.env.GITLAB_HOOK_TOKEN ?? 'change-me' },
      base: { auth: { username: 'change', password: process.env.CHANGE_PASSWORD ?? 'change-me' } },
    },
  },
  schedulers: [
    singleBranchScheduler({
      name: 'main',
      branch: 'main',
      treeStableTimer: '1m',
      fileIsImportant: { files: ['src/**', 'Makefile'], notFiles: ['**/*.md'] },
      builderNames: ['app'],
      properties: { channel: 'stable' },
    }),
    anyBranchScheduler({
      name: 'branches',
      changeFilter: changeFilter({ branchNotEq: 'main', category: null }),
      builderNames: ['app'],
    }),
    triggerable({ name: 'tests', builderNames: ['tests'] }),
    dependent({ name: 'deploy', upstream: 'main', builderNames: ['deploy'] }),
    nightly({
      name: 'nightly',
      cron: '0 3 * * 1-5',
      branch: 'main',
      onlyIfChanged: true,
      builderNames: ['app'],
      codebases: { '': { repository: REPO, branch: 'main' } },
    }),
    periodic({
      name: 'hourly',
      periodicBuildTimer: '1h',
      builderNames: ['docs'],
      codebases: { '': { repository: REPO, branch: 'main' } },
    }),
    forceScheduler({
      name: 'force',
      builderNames: ['app', 'docs'],
      codebases: [{ codebase: '', repository: REPO, project: null }],
      properties: [
        { type: 'choice', name: 'channel', choices: ['stable', 'beta'], default: 'beta' },
        { type: 'int', name: 'jobs', default: 4 },
        {
          type: 'nested',
          name: 'deploy',
          label: 'Deploy afterwards',
          fields: [
            { type: 'bool', name: 'enabled' },
            { type: 'string', name: 'target', default: 'staging', regex: '^[a-z-]+$' },
          ],
        },
      ],
    }),
  ],
});
