/**
 * Builds beyond one shell command: a sequence of commands, properties from commands,
 * artifacts uploaded to the master, a lock around deployment, a step on the master, warning
 * counting, secrets from files and commit statuses on GitHub. docs/config.md explains each.
 *
 * Secrets are files in `secrets/` under the master's basedir (a Kubernetes Secret mounted
 * there works as it is): `secrets/github_token`, `secrets/deploy_token`. Reload after an
 * edit with `yardmaster reconfig --basedir DIR`.
 */
import {
  buildFactory,
  builder,
  defineConfig,
  directoryUpload,
  fileUpload,
  forceScheduler,
  git,
  gitHubStatusPush,
  interpolate,
  masterLock,
  masterShellCommand,
  renderer,
  setProperty,
  setPropertyFromCommand,
  shellCommand,
  shellSequence,
  worker,
  workerLock,
} from '@yardmaster/master';

/** One deployment at a time, whichever builder runs it. */
const deploy = masterLock('deploy');
/** At most two compiles per worker, four on the big one. */
const cpu = workerLock('cpu', { maxCount: 2, maxCountForWorker: { 'linux-big': 4 } });

export default defineConfig({
  title: 'Builds example',
  secrets: { provider: 'files', dir: 'secrets' },
  buildbotURL: 'https://ci.example.com/',
  workers: [
    worker('linux-1', { password: process.env.LINUX_1_PASSWORD ?? 'change-me-1' }),
    worker('linux-big', {
      password: process.env.LINUX_BIG_PASSWORD ?? 'change-me-2',
      properties: { jobs: 16 },
    }),
  ],
  builders: [
    builder({
      name: 'app',
      workerNames: ['linux-1', 'linux-big'],
      locks: [cpu.access('counting')],
      properties: { jobs: 4 },
      factory: buildFactory([
        git({ repourl: 'https://github.com/example/app.git', branch: 'main' }),
        setPropertyFromCommand({ command: 'git describe --tags --always', property: 'version' }),
        shellSequence({
          name: 'build',
          commands: [
            { command: 'npm ci', haltOnFailure: true },
            {
              command: ['npm', 'run', 'lint'],
              logname: 'lint',
              flunkOnFailure: false,
              warnOnFailure: true,
            },
            { command: interpolate('npm run build -- --jobs=%(prop:jobs)s') },
          ],
        }),
        shellCommand({
          name: 'test',
          command: 'npm test',
          warningPattern: '^.*DeprecationWarning',
          warnOnWarnings: true,
          logfiles: { junit: 'reports/junit.xml' },
        }),
        fileUpload({
          workersrc: 'dist/app.tar.gz',
          masterdest: interpolate('artifacts/app-%(prop:version)s.tar.gz'),
        }),
        directoryUpload({ workersrc: 'coverage', masterdest: 'public/coverage', compress: 'gz' }),
        setProperty({
          property: 'release',
          value: renderer((props) => props.getProperty('branch') === 'main'),
        }),
        shellCommand({
          name: 'deploy',
          command: './deploy.sh',
          env: { DEPLOY_TOKEN: interpolate('%(secret:deploy_token)s') },
          locks: [deploy.access('exclusive')],
          doStepIf: renderer((props) => props.getProperty('release') === true),
        }),
        masterShellCommand({
          name: 'publish',
          command: interpolate('ln -sfn app-%(prop:version)s.tar.gz artifacts/app-latest.tar.gz'),
          hideStepIf: renderer((_props, results) => results === 0),
        }),
      ]),
    }),
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['app'] })],
  reporters: [
    gitHubStatusPush({ token: interpolate('%(secret:github_token)s'), builders: ['app'] }),
  ],
});
