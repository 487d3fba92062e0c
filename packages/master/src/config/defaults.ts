/**
 * Every default the validator fills in, in one place (docs/config.md lists the same values;
 * docs/decisions/0002-config-defaults.md explains the ones that differ from Buildbot).
 */
export const CONFIG_DEFAULTS = {
  title: 'Yardmaster',
  www: { port: 8010, host: '127.0.0.1' },
  workerPort: 9989,
  workerHost: '127.0.0.1',
  collapseRequests: true,
  builder: { priority: 0 },
  step: {
    haltOnFailure: false,
    flunkOnFailure: true,
    warnOnFailure: false,
    alwaysRun: false,
    workdir: 'build',
    /** 1200 s, as Buildbot. */
    timeoutMs: 1_200_000,
    logEnviron: true,
  },
  shellCommand: { name: 'shell', wantStdout: true, wantStderr: true },
  git: {
    name: 'git',
    branch: 'HEAD',
    mode: 'incremental',
    fullMethod: 'fresh',
    /** Source steps halt by default in Buildbot: a build without its sources is pointless. */
    haltOnFailure: true,
  },
  forceScheduler: { reason: 'force build' },
} as const;
