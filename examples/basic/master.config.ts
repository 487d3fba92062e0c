/**
 * A small but complete master: two workers, one builder that checks out a repository and
 * tests it, and a force scheduler. Start from here; docs/config.md lists every option.
 *
 * Passwords come from the environment: the config is code, so any `process.env` value,
 * file read or computation works. Never commit real passwords.
 */
import {
  buildFactory,
  builder,
  defineConfig,
  forceScheduler,
  git,
  shellCommand,
  worker,
} from '@yardmaster/master';

export default defineConfig({
  title: 'Example CI',
  workers: [
    worker('linux-1', { password: process.env.LINUX_1_PASSWORD ?? 'change-me-1' }),
    worker('linux-2', { password: process.env.LINUX_2_PASSWORD ?? 'change-me-2', maxBuilds: 1 }),
  ],
  builders: [
    builder({
      name: 'app',
      description: 'Install and test the app on every push',
      workerNames: ['linux-1', 'linux-2'],
      tags: ['app'],
      factory: buildFactory([
        git({
          repourl: 'https://github.com/example/app.git',
          branch: 'main',
          mode: 'full',
          method: 'fresh',
        }),
        shellCommand({
          name: 'install',
          command: ['npm', 'ci'],
          haltOnFailure: true,
          timeout: '10m',
        }),
        shellCommand({ name: 'test', command: 'npm test', env: { CI: 'true' }, maxTime: '1h' }),
        shellCommand({
          name: 'lint',
          command: 'npm run lint',
          flunkOnFailure: false,
          warnOnFailure: true,
        }),
      ]),
    }),
  ],
  schedulers: [
    forceScheduler({
      name: 'force',
      builderNames: ['app'],
      properties: [
        { name: 'verbose', type: 'bool', label: 'Verbose output' },
        { name: 'shards', type: 'int', default: 1 },
      ],
    }),
  ],
  // Listen on every interface, so workers on other machines can connect.
  workerHost: '0.0.0.0',
});
