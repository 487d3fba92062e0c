/**
 * The composition root: builds the master's services from a validated config and starts
 * and stops them in order.
 *
 * Start: database (migrated) → bus → data API → master row and recovery of its own past
 * → builders and workers in the database → worker port → web port → distributor →
 * heartbeat. Stop runs the other way; running builds are interrupted and their requests
 * re-queued, so nothing is lost across a restart.
 */
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { MasterConfig } from './config/types.js';
import { openDatabase, type DatabaseHandle } from './db/connect.js';
import { InProcessBus } from './mq/in-process-bus.js';
import type { Bus } from './mq/bus.js';
import { MasterLiveness } from './process/master-liveness.js';
import { SingletonServices } from './process/singleton-services.js';
import { DataApi } from './data/data-api.js';
import { createLogger, type Logger } from './logger.js';
import { WorkerRegistry } from './workers/worker-registry.js';
import { WorkerServer } from './workers/worker-server.js';
import { BuildRequestDistributor } from './process/distributor.js';
import { recoverAfterRestart } from './process/recovery.js';
import type { BuilderRuntime } from './process/builder-runtime.js';
import { createStep } from './steps/step-factory.js';
import { ForceScheduler } from './schedulers/force-scheduler.js';
import { SchedulerManager } from './schedulers/scheduler-manager.js';
import type { ChangeHooksConfig } from './config/types.js';
import type { SingletonService } from './process/singleton-services.js';
import { createApiServer } from './api/server.js';
import type {
  ForceResult,
  ForceSchedulerDescription,
  MasterControl,
  SchedulerDescription,
  WorkerAction,
} from './api/control.js';
import { Results } from './results.js';
import { EMPTY_SPEC } from './data/result-spec.js';
import { BadRequestError, NotFoundError } from './errors.js';
import { MasterProbesImpl, type MasterLifecycle } from './master-probes.js';
import { LockManager } from './process/locks.js';
import { createSecretsProvider, type SecretsProvider } from './process/secrets.js';
import {
  ReporterSet,
  buildServices,
  configLocks,
  describeChanges,
  diffConfigs,
  type ConfigChanges,
} from './process/reconfig.js';
import { KubernetesLatentWorkers } from './workers/kubernetes/latent-workers.js';

export interface MasterOptions {
  config: MasterConfig;
  basedir: string;
  /** Overrides of the config, from flags or the environment. */
  webPort?: number;
  webHost?: string;
  workerPort?: number;
  workerHost?: string;
  dbUrl?: string;
  masterName?: string;
  logger?: Logger;
  /** Injected clock (epoch ms) for tests. */
  now?: () => number;
  /**
   * On stop, how long running builds may take to finish before they are interrupted and
   * re-queued (default 0: at once). On Kubernetes, a little less than the pod's
   * terminationGracePeriodSeconds.
   */
  drainTimeoutMs?: number;
  /** How often this master heart-beats (default 2 s). */
  heartbeatMs?: number;
  /** A master silent for longer is expired by the others (default 15 s). */
  masterExpiryMs?: number;
}

const HEARTBEAT_MS = 2_000;
const MASTER_EXPIRY_MS = 15_000;

export class Master implements MasterControl {
  readonly log: Logger;
  private db: DatabaseHandle | null = null;
  private bus: Bus | null = null;
  private dataApi: DataApi | null = null;
  private registry: WorkerRegistry | null = null;
  private workerServer: WorkerServer | null = null;
  private api: FastifyInstance | null = null;
  private distributor: BuildRequestDistributor | null = null;
  private liveness: MasterLiveness | null = null;
  /** Change sources and timed schedulers: each runs on one master, held by a lease. */
  singletons: SingletonServices | null = null;
  private schedulers = new Map<string, ForceScheduler>();
  /** Change sources and the other schedulers (schedulers/scheduler-manager.ts). */
  schedulerManager: SchedulerManager | null = null;
  private singletonList: SingletonService[] = [];
  private lifecycle: MasterLifecycle = 'starting';
  /** Worker pods started from the queue (kubernetesLatentWorker). */
  private latent: KubernetesLatentWorkers | null = null;
  private builderNames = new Map<number, string>();
  /** The config in effect: the one started with, then each accepted reload's. */
  private current: MasterConfig;
  /** Reloads one at a time (process/reconfig.ts has the pieces). */
  private reconfiguring: Promise<unknown> = Promise.resolve();
  private readonly lockManager = new LockManager(() => this.distributor?.wake());
  private secretsProvider: SecretsProvider = createSecretsProvider(null, '.');
  /** Status reporters of the config (reporters/). */
  readonly reporters = new ReporterSet();
  masterid = 0;
  webPort = 0;
  workerPort = 0;

  constructor(private readonly options: MasterOptions) {
    this.log = options.logger ?? createLogger();
    this.current = options.config;
  }

  get data(): DataApi {
    if (!this.dataApi) throw new Error('the master is not started');
    return this.dataApi;
  }

  get config(): MasterConfig {
    return this.current;
  }

  /**
   * Applies a new, validated config without a restart (Buildbot's reconfig): builders,
   * workers, schedulers, locks, secrets and reporters follow it; running builds keep the
   * config they started with. Ports, hosts and the database need a restart (listed in the
   * answer). Reloads run one at a time; a failure leaves what was applied so far logged.
   */
  reconfig(config: MasterConfig): Promise<ConfigChanges> {
    const run = this.reconfiguring.then(async () => {
      const changes = diffConfigs(this.current, config);
      await this.applyConfig(config);
      this.log.info({ changes }, `configuration updated: ${describeChanges(changes)}`);
      return changes;
    });
    this.reconfiguring = run.catch(() => undefined);
    return run;
  }

  async start(): Promise<void> {
    const { config, basedir } = this.options;
    const dbUrl = this.options.dbUrl ?? config.db.url ?? 'sqlite:///state.sqlite';
    this.db = await openDatabase(dbUrl, basedir);
    if (this.db.dialect === 'postgres') {
      // Loaded only here: `pg` is not needed by a master on SQLite (idle RSS).
      const { PostgresBus } = await import('./mq/postgres-bus.js');
      const bus = new PostgresBus({
        db: this.db.db,
        url: dbUrl,
        onError: (error, context) =>
          this.log.warn({ err: error }, `event bus: ${context} failed; it retries by itself`),
      });
      await bus.start();
      this.bus = bus;
    } else {
      this.bus = new InProcessBus((error, key) =>
        this.log.error({ err: error, key }, 'an event subscriber failed'),
      );
    }
    this.dataApi = new DataApi({
      db: this.db.db,
      bus: this.bus,
      now: this.options.now ?? Date.now,
    });
    const data = this.dataApi;

    const name = this.options.masterName ?? `${os.hostname()}:${path.resolve(basedir)}`;
    this.masterid = await data.masters.register(name);
    await recoverAfterRestart(data, this.masterid, this.log);

    this.registry = new WorkerRegistry(data, () => this.masterid, this.log);
    this.listenForControl(data);
    this.distributor = new BuildRequestDistributor(data, this.registry, this.masterid, this.log);
    this.schedulerManager = new SchedulerManager({
      data,
      log: this.log,
      basedir: this.options.basedir,
      cancelBuildRequest: (brid, reason) => this.cancelBuildRequest(brid, reason),
    });
    const probes = this.createProbes();
    this.distributor.observe({
      buildStarted: (build, request) => probes.buildStarted(build, request),
    });
    const latent = new KubernetesLatentWorkers({
      data,
      registry: this.registry,
      masterid: () => this.masterid,
      masterName: name,
      masterExpiryMs: this.options.masterExpiryMs ?? MASTER_EXPIRY_MS,
      distributorIdle: () => this.distributor?.idle() ?? Promise.resolve(),
      log: this.log.child({ component: 'kubernetes' }),
    });
    this.latent = latent;
    this.distributor.observe({ unserved: (requests) => latent.unserved(requests) });
    await this.applyConfig(config);

    this.workerServer = new WorkerServer(this.registry, this.log);
    this.workerPort = await this.workerServer.listen(
      this.options.workerPort ?? config.workerPort,
      this.options.workerHost ?? config.workerHost,
    );
    this.api = createApiServer({ data, control: this, log: this.log, probes });
    const webHost = this.options.webHost ?? config.www.host;
    await this.api.listen({ port: this.options.webPort ?? config.www.port, host: webHost });
    const address = this.api.server.address();
    this.webPort = typeof address === 'object' && address ? address.port : 0;

    this.distributor.start();
    this.liveness = new MasterLiveness(
      data,
      this.masterid,
      this.log,
      {
        heartbeatMs: this.options.heartbeatMs ?? HEARTBEAT_MS,
        expiryMs: this.options.masterExpiryMs ?? MASTER_EXPIRY_MS,
        now: this.options.now ?? Date.now,
      },
      () => this.onFenced(name),
    );
    this.liveness.start();
    this.singletons = new SingletonServices(data, this.masterid, this.log, {
      renewMs: this.options.heartbeatMs ?? HEARTBEAT_MS,
      ttlMs: this.options.masterExpiryMs ?? MASTER_EXPIRY_MS,
    });
    await this.singletons.set(this.singletonList);
    this.singletons.start();
    this.log.info(
      {
        masterid: this.masterid,
        web: `http://${webHost}:${this.webPort}`,
        workerPort: this.workerPort,
        db: this.db.description,
      },
      `master "${config.title}" started: web http://${webHost}:${this.webPort}, workers on port ${this.workerPort}`,
    );
    this.lifecycle = 'ready';
  }

  private async applyConfig(config: MasterConfig): Promise<void> {
    const data = this.data;
    const registry = this.registry;
    const distributor = this.distributor;
    if (!registry || !distributor) throw new Error('the master is not started');
    await registry.configure(
      config.workers.map((w) => ({ name: w.name, password: w.password, maxBuilds: w.maxBuilds })),
    );
    const builders: BuilderRuntime[] = [];
    const links: { workerid: number; builderid: number }[] = [];
    this.secretsProvider = createSecretsProvider(config.secrets, this.options.basedir);
    this.lockManager.configure(configLocks(config));
    const services = buildServices(config, {
      basedir: path.resolve(this.options.basedir),
      locks: this.lockManager,
      secrets: this.secretsProvider,
    });
    if (this.schedulerManager) services.triggers = this.schedulerManager.triggers;
    for (const b of config.builders) {
      const builderid = await data.builders.ensure(b.name, b.description, b.tags);
      for (const workerName of b.workerNames) {
        const worker = registry.get(workerName);
        if (worker) links.push({ workerid: worker.workerid, builderid });
      }
      builders.push({
        name: b.name,
        builderid,
        workerNames: b.workerNames,
        createSteps: () => b.factory.steps.map(createStep),
        builddir: b.name.replace(/[^a-zA-Z0-9_.-]+/g, '_'),
        collapseRequests: b.collapseRequests,
        priority: b.priority,
        properties: b.properties,
        locks: b.locks,
        nextWorker: b.nextWorker,
        nextBuild: b.nextBuild,
        canStartBuild: b.canStartBuild,
        services,
      });
    }
    await data.builders.setMasterBuilders(
      this.masterid,
      builders.map((b) => b.builderid),
    );
    await data.workers.setConfigured(this.masterid, links);
    this.schedulers = new Map(
      config.schedulers
        .filter((s) => s.type === 'force')
        .map((s) => [s.name, new ForceScheduler(s, data)]),
    );
    this.singletonList = (await this.schedulerManager?.configure(config)) ?? [];
    await this.singletons?.set(this.singletonList);
    this.builderNames = new Map(builders.map((b) => [b.builderid, b.name]));
    this.latent?.setBuilders(builders);
    await this.latent?.configure(config.latentWorkers);
    distributor.setBuilders(builders);
    await this.reporters.apply(config.reporters, {
      data,
      log: this.log,
      masterid: () => this.masterid,
      // Reporters kept across a reload read secrets from the current provider.
      secrets: { get: (name) => this.secretsProvider.get(name) },
      buildbotURL: () => this.buildbotURL(),
    });
    this.current = config;
  }

  /** The web UI's public URL ("…/"): the config's buildbotURL, else the web port's address. */
  private buildbotURL(): string {
    const configured = this.current.buildbotURL;
    if (configured !== null) return configured.endsWith('/') ? configured : `${configured}/`;
    const host = this.options.webHost ?? this.current.www.host;
    const shown = host === '0.0.0.0' || host === '::' ? os.hostname() : host;
    return `http://${shown}:${this.webPort}/`;
  }

  /** Others expired this master: drop its running builds (they run elsewhere), register again. */
  private async onFenced(name: string): Promise<void> {
    this.distributor?.abandonRunning('this master was expired by another master');
    await this.data.masters.register(name);
  }

  /**
   * Actions other masters ask of this one through the bus (any master accepts any API
   * action; the one that runs the build carries it out).
   */
  private listenForControl(data: DataApi): void {
    data.bus.subscribe(['control', '*', 'stop_build'], (key, message) => {
      if (key[1] !== String(this.masterid)) return;
      const { buildid, reason } = message as { buildid: number; reason: string };
      this.distributor?.stopBuild(buildid, reason);
    });
    data.bus.subscribe(['workers', '*', 'state_updated'], (_key, message) => {
      const worker = message as { workerid: number; paused: boolean; graceful: boolean } | null;
      if (worker) this.registry?.syncState(worker.workerid, worker.paused);
    });
  }

  /** Liveness figures (expiries this master carried out), for tests and metrics. */
  get expiries() {
    return this.liveness?.expiries ?? [];
  }

  async stop(): Promise<void> {
    this.lifecycle = 'draining';
    this.latent?.drain();
    const drainMs = this.options.drainTimeoutMs ?? 0;
    if (drainMs > 0) {
      // Still heart-beating and serving the web port (/readyz answers 503) while the
      // running builds finish; the distributor claims nothing new.
      await this.distributor?.stop('the master is shutting down', { drainMs });
    }
    await this.liveness?.stop();
    await this.singletons?.stop();
    await this.api?.close();
    await this.distributor?.stop('the master is shutting down');
    await this.reporters.stop();
    // Pods are left running: the next start adopts the idle ones.
    await this.latent?.stop();
    this.registry?.closeAll('the master is shutting down');
    await this.workerServer?.close();
    if (this.dataApi && this.masterid) {
      await this.dataApi.masters.setInactive(this.masterid).catch(() => undefined);
    }
    await this.bus?.close();
    await this.db?.close();
    this.lifecycle = 'stopped';
    this.log.info('master stopped');
  }

  /** The probes and metrics of the web port (api/health-routes.ts, api/metrics.ts). */
  private createProbes(): MasterProbesImpl {
    return new MasterProbesImpl({
      data: () => this.data,
      registry: () => this.registry,
      runningBuilds: () => this.distributor?.runningBuilds() ?? [],
      builderNames: () => this.builderNames,
      podCounts: () => this.latent?.podCounts() ?? [],
      lifecycle: () => this.lifecycle,
      now: this.options.now ?? Date.now,
      log: this.log,
    });
  }

  // ---- MasterControl (used by the REST API) ----

  changeHooks(): ChangeHooksConfig {
    return this.current.www.changeHooks;
  }

  changeSources(): { name: string }[] {
    return this.current.changeSources.map((source) => ({ name: source.name }));
  }

  forceSchedulers(): ForceSchedulerDescription[] {
    return [...this.schedulers.values()].map((s) => s.describe());
  }

  configuredSchedulers(): SchedulerDescription[] {
    return this.config.schedulers.map((s) => ({
      name: s.name,
      enabled: true,
      masterid: this.masterid,
    }));
  }

  async force(
    schedulerName: string,
    params: Record<string, unknown>,
    owner: string | null,
  ): Promise<ForceResult> {
    const scheduler = this.schedulers.get(schedulerName);
    if (!scheduler) {
      const known = [...this.schedulers.keys()].join(', ') || 'none';
      throw new NotFoundError(`force scheduler "${schedulerName}" not found (known: ${known})`);
    }
    return scheduler.force(params, owner);
  }

  async stopBuild(buildid: number, reason: string): Promise<void> {
    const build = await this.data.builds.get(buildid);
    if (!build) throw new NotFoundError(`build ${buildid} not found`);
    if (build.complete) return;
    if (this.distributor?.stopBuild(buildid, reason)) return;
    if (build.masterid === this.masterid) {
      throw new BadRequestError(`build ${buildid} is not running any more; nothing to stop`);
    }
    // Another master runs it: ask that master through the bus.
    this.data.bus.publish(['control', String(build.masterid), 'stop_build'], { buildid, reason });
  }

  async rebuild(buildid: number, reason: string): Promise<ForceResult> {
    const data = this.data;
    const build = await data.builds.get(buildid);
    if (!build) throw new NotFoundError(`build ${buildid} not found`);
    const request = await data.buildsets.getRequest(build.buildrequestid);
    if (!request)
      throw new NotFoundError(
        `build request ${build.buildrequestid} of build ${buildid} not found`,
      );
    const [sourcestamps, properties] = await Promise.all([
      data.buildsets.sourcestamps(request.buildsetid),
      data.buildsets.properties(request.buildsetid),
    ]);
    const { buildsetid, brids } = await data.buildsets.add({
      reason: `${reason} of build ${buildid}`,
      sourcestamps,
      properties,
      builderids: [build.builderid],
      priority: request.priority,
      parentBuildid: buildid,
    });
    return { buildsetid, buildrequestids: brids };
  }

  // ---- worker and build request control (api/worker-control-routes.ts) ----

  private gracefulWatch = false;

  async controlWorker(key: number | string, action: WorkerAction, reason: string): Promise<void> {
    const registry = this.registry;
    if (!registry) throw new Error('the master is not started');
    const worker = typeof key === 'number' ? registry.byId(key) : registry.get(key);
    if (!worker) {
      const known =
        registry
          .all()
          .map((w) => w.name)
          .join(', ') || 'none';
      throw new NotFoundError(
        `worker ${typeof key === 'number' ? key : `"${key}"`} not found (known: ${known})`,
      );
    }
    if (action === 'pause' || action === 'unpause') {
      await registry.setPaused(worker, action === 'pause');
      return;
    }
    const connection = worker.connection;
    if (!connection || connection.isClosed) {
      throw new BadRequestError(
        `worker "${worker.name}" is not connected to this master; nothing to ${action}`,
      );
    }
    if (action === 'kill') {
      this.log.info({ worker: worker.name, reason }, `worker ${worker.name} killed: ${reason}`);
      connection.fail(`killed: ${reason}`);
      return;
    }
    // Graceful: no new builds (available() skips it), shut down once its builds end.
    worker.graceful = true;
    await this.data.workers.setState(worker.workerid, { graceful: true });
    this.log.info(
      { worker: worker.name, reason },
      `worker ${worker.name} shuts down once idle: ${reason}`,
    );
    if (!this.gracefulWatch) {
      this.gracefulWatch = true;
      registry.onAvailable(() => {
        for (const w of registry.all())
          if (w.graceful && w.runningBuilds === 0) this.shutDownWorker(w.name);
      });
    }
    if (worker.runningBuilds === 0) this.shutDownWorker(worker.name);
  }

  private shutDownWorker(name: string): void {
    const worker = this.registry?.get(name);
    const connection = worker?.connection;
    if (!worker || !connection || connection.isClosed) return;
    const done = () => {
      // The flag ends with the connection: a worker that comes back takes builds again.
      worker.graceful = false;
      this.data.workers.setState(worker.workerid, { graceful: false }).catch((error: unknown) => {
        this.log.error({ err: error }, 'recording the end of a graceful shutdown failed');
      });
    };
    connection.onClose(done);
    connection.shutdown().catch(() => connection.close('graceful shutdown'));
  }

  async cancelBuildRequest(buildrequestid: number, reason: string): Promise<void> {
    const data = this.data;
    const request = await data.buildsets.getRequest(buildrequestid);
    if (!request) throw new NotFoundError(`build request ${buildrequestid} not found`);
    if (request.complete) return;
    // Claim it first, so no distributor starts it while it is being cancelled.
    if (await data.buildsets.claim(buildrequestid, this.masterid)) {
      await data.buildsets.complete([buildrequestid], Results.CANCELLED, this.masterid);
      this.log.info(
        { buildrequestid, reason },
        `build request ${buildrequestid} cancelled: ${reason}`,
      );
      return;
    }
    const { items } = await data.builds.list(EMPTY_SPEC, { buildrequestid });
    const running = items.filter((b) => !b.complete);
    if (running.length === 0) {
      throw new BadRequestError(
        `build request ${buildrequestid} is being started; stop its build instead`,
      );
    }
    for (const build of running) await this.stopBuild(build.buildid, reason);
  }
}
