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
    warnOnWarnings: false,
    flunkOnWarnings: false,
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
  forceScheduler: {
    reason: 'force build',
    reasonString: "A build was forced by '%(owner)s': %(reason)s",
    /** Buildbot uses the scheduler's name; the button says what it does. */
    buttonName: 'Start build',
  },
  trigger: { name: 'trigger', parentRelationship: 'Triggered from' },
  gitPoller: {
    /** 10 minutes, as Buildbot. */
    pollIntervalMs: 600_000,
    workdir: 'gitpoller-work',
    /** Buildbot's default branch list. */
    branches: ['master'],
  },
  changeHooks: { githubSkips: ['\\[ *skip *ci *\\]', '\\[ *ci *skip *\\]'] },
  lock: { maxCount: 1 },
  shellSequence: { name: 'shell' },
  setProperty: { name: 'SetProperty' },
  setPropertyFromCommand: { name: 'setproperty' },
  transfer: {
    uploadName: 'upload',
    downloadName: 'download',
    stringDownloadName: 'string_download',
    /** Buildbot's FileUpload block: 256 KiB; the other transfers use 16 KiB. */
    fileUploadBlocksize: 262_144,
    blocksize: 16_384,
  },
  makeDirectory: { name: 'MakeDirectory' },
  removeDirectory: { name: 'RemoveDirectory' },
  /** As Buildbot's MasterShellCommand: a failure on the master halts the build. */
  masterShellCommand: { name: 'MasterShellCommand', haltOnFailure: true },
  reporter: {
    retries: 3,
    retryDelayMs: 1_000,
    timeoutMs: 10_000,
    gitHubBaseURL: 'https://api.github.com',
    gitLabBaseURL: 'https://gitlab.com',
  },
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
