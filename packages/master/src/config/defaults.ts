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
  kubernetesLatentWorker: {
    minIdle: 0,
    /** 5 minutes. */
    idleTimeoutMs: 300_000,
    /** 5 minutes. */
    unschedulableDeadlineMs: 300_000,
    /** One day: a safety net for pods that would otherwise never end. */
    activeDeadlineSeconds: 86_400,
  },
} as const;
