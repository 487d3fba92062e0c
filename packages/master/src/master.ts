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
import { DataApi } from './data/data-api.js';
import { createLogger, type Logger } from './logger.js';
import { WorkerRegistry } from './workers/worker-registry.js';
import { WorkerServer } from './workers/worker-server.js';
import { BuildRequestDistributor } from './process/distributor.js';
import { recoverAfterRestart } from './process/recovery.js';
import type { BuilderRuntime } from './process/builder-runtime.js';
import { createStep } from './steps/step-factory.js';
import { ForceScheduler } from './schedulers/force-scheduler.js';
import { createApiServer } from './api/server.js';
import type { ForceResult, ForceSchedulerDescription, MasterControl, SchedulerDescription } from './api/control.js';
import { BadRequestError, NotFoundError } from './errors.js';

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
}

const HEARTBEAT_MS = 5_000;

export class Master implements MasterControl {
  readonly log: Logger;
  private db: DatabaseHandle | null = null;
  private bus: InProcessBus | null = null;
  private dataApi: DataApi | null = null;
  private registry: WorkerRegistry | null = null;
  private workerServer: WorkerServer | null = null;
  private api: FastifyInstance | null = null;
  private distributor: BuildRequestDistributor | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private schedulers = new Map<string, ForceScheduler>();
  masterid = 0;
  webPort = 0;
  workerPort = 0;

  constructor(private readonly options: MasterOptions) {
    this.log = options.logger ?? createLogger();
  }

  get data(): DataApi {
    if (!this.dataApi) throw new Error('the master is not started');
    return this.dataApi;
  }

  get config(): MasterConfig {
    return this.options.config;
  }

  async start(): Promise<void> {
    const { config, basedir } = this.options;
    const dbUrl = this.options.dbUrl ?? config.db.url ?? 'sqlite:///state.sqlite';
    this.db = await openDatabase(dbUrl, basedir);
    this.bus = new InProcessBus((error, key) =>
      this.log.error({ err: error, key }, 'an event subscriber failed'),
    );
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
    this.distributor = new BuildRequestDistributor(data, this.registry, this.masterid, this.log);
    await this.applyConfig(config);

    this.workerServer = new WorkerServer(this.registry, this.log);
    this.workerPort = await this.workerServer.listen(
      this.options.workerPort ?? config.workerPort,
      this.options.workerHost ?? config.workerHost,
    );
    this.api = createApiServer({ data, control: this, log: this.log });
    const webHost = this.options.webHost ?? config.www.host;
    await this.api.listen({ port: this.options.webPort ?? config.www.port, host: webHost });
    const address = this.api.server.address();
    this.webPort = typeof address === 'object' && address ? address.port : 0;

    this.distributor.start();
    this.heartbeat = setInterval(() => {
      data.masters.heartbeat(this.masterid).catch((error: unknown) => {
        this.log.error({ err: error }, 'master heartbeat failed; will retry');
      });
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    this.log.info(
      {
        masterid: this.masterid,
        web: `http://${webHost}:${this.webPort}`,
        workerPort: this.workerPort,
        db: this.db.description,
      },
      `master "${config.title}" started: web http://${webHost}:${this.webPort}, workers on port ${this.workerPort}`,
    );
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
        properties: { ...config.properties, ...b.properties },
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
    distributor.setBuilders(builders);
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.api?.close();
    await this.distributor?.stop('the master is shutting down');
    this.registry?.closeAll('the master is shutting down');
    await this.workerServer?.close();
    if (this.dataApi && this.masterid) {
      await this.dataApi.masters.setInactive(this.masterid).catch(() => undefined);
    }
    await this.bus?.close();
    await this.db?.close();
    this.log.info('master stopped');
  }

  // ---- MasterControl (used by the REST API) ----

  forceSchedulers(): ForceSchedulerDescription[] {
    return [...this.schedulers.values()].map((s) => s.describe());
  }

  configuredSchedulers(): SchedulerDescription[] {
    return this.config.schedulers.map((s) => ({ name: s.name, enabled: true, masterid: this.masterid }));
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
    if (!this.distributor?.stopBuild(buildid, reason)) {
      throw new BadRequestError(
        `build ${buildid} is not running on this master (master ${build.masterid})`,
      );
    }
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
}
