/**
 * A master with a kubernetesLatentWorker pointed at testkit's fake Kubernetes API (whose
 * kubelet runs each pod as a real `yardmaster-worker` process), for the scenario tests in
 * `src/workers/kubernetes/*.int.test.ts`.
 *
 * Owns: the fake API server and the current master (fixed ports, SQLite in a temp
 * basedir, silent logger). `restart()` stops the master (draining) and starts a new one
 * with the same name, database and ports; `stop()` stops the master, then the fake.
 */
import path from 'node:path';
import { pino } from 'pino';
import { FakeKubernetes, freePort, makeTempDir, waitFor } from '@yardmaster/testkit';
import type { FakeKubernetesOptions } from '@yardmaster/testkit';
import { Master } from '../src/master.js';
import {
  buildFactory,
  builder,
  forceScheduler,
  kubernetesLatentWorker,
  shellCommand,
  validateConfig,
} from '../src/config/index.js';
import type { KubernetesLatentWorkerOptions, MasterConfig } from '../src/config/index.js';
import type { KubernetesLatentWorkers } from '../src/workers/kubernetes/latent-workers.js';

export interface K8sFixtureOptions {
  latent?: Partial<KubernetesLatentWorkerOptions>;
  command?: string;
  fake?: FakeKubernetesOptions;
  masterName?: string;
  drainTimeoutMs?: number;
}

export class K8sFixture {
  master!: Master;
  fake!: FakeKubernetes;
  config!: MasterConfig;
  basedir = '';
  workerPort = 0;
  masterName: string;
  private readonly options: K8sFixtureOptions;

  constructor(options: K8sFixtureOptions = {}) {
    this.options = options;
    this.masterName = options.masterName ?? 'master-0';
  }

  async start(): Promise<this> {
    this.fake = await new FakeKubernetes(this.options.fake).start();
    this.basedir = await makeTempDir('ym-k8s-');
    this.workerPort = await freePort();
    this.config = this.makeConfig(this.options.latent ?? {});
    await this.startMaster();
    return this;
  }

  makeConfig(latent: Partial<KubernetesLatentWorkerOptions>): MasterConfig {
    return validateConfig(
      {
        workers: [
          kubernetesLatentWorker('k8s', {
            image: 'yardmaster/worker:test',
            masterAddress: `127.0.0.1:${this.workerPort}`,
            maxPods: 5,
            kubeconfig: this.fake.kubeconfigPath,
            namespace: this.fake.namespace,
            ...latent,
          }),
        ],
        builders: [
          builder({
            name: 'quick',
            workerNames: ['k8s'],
            collapseRequests: false,
            factory: buildFactory([shellCommand({ command: this.options.command ?? 'sleep 0.5' })]),
          }),
        ],
        schedulers: [forceScheduler({ name: 'force', builderNames: ['quick'] })],
        collapseRequests: false,
      },
      'k8s-fixture',
    );
  }

  async startMaster(name = this.masterName): Promise<Master> {
    this.masterName = name;
    this.master = new Master({
      config: this.config,
      basedir: this.basedir,
      webPort: 0,
      webHost: '127.0.0.1',
      workerPort: this.workerPort,
      workerHost: '127.0.0.1',
      dbUrl: `sqlite:///${path.join(this.basedir, 'state.sqlite')}`,
      masterName: name,
      logger: pino({ level: process.env.YARDMASTER_TEST_LOG ?? 'silent' }),
      drainTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
    });
    await this.master.start();
    return this.master;
  }

  /** Stops the master (running builds finish first), then starts it again. */
  async restart(name = this.masterName): Promise<void> {
    await this.master.stop();
    await this.startMaster(name);
  }

  /** The master's latent-worker service (private; tests reconfigure through it). */
  get latent(): KubernetesLatentWorkers {
    return (this.master as unknown as { latent: KubernetesLatentWorkers }).latent;
  }

  /** Forces `count` builds of `quick`; returns their build request ids. */
  async force(count: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const result = await this.master.force('force', { builderNames: ['quick'] }, null);
      ids.push(...Object.values(result.buildrequestids));
    }
    return ids;
  }

  /** Waits until every request in `ids` is complete; returns their results. */
  async results(ids: number[], timeoutMs = 50_000): Promise<number[]> {
    return waitFor(
      async () => {
        const requests = await Promise.all(
          ids.map((id) => this.master.data.buildsets.getRequest(id)),
        );
        if (!requests.every((r) => r?.complete)) return null;
        return requests.map((r) => r?.results ?? -1);
      },
      {
        timeoutMs,
        intervalMs: 100,
        message: () =>
          `${ids.length} build requests complete (pods now: ${this.fake.listPods().length})`,
      },
    );
  }

  /** Every build's results and state string, oldest first. */
  async builds(): Promise<{ results: number | null; state_string: string }[]> {
    const list = await this.master.data.builds.list(
      { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
      {},
    );
    return list.items.map((b) => ({ results: b.results, state_string: b.state_string }));
  }

  async stop(): Promise<void> {
    await this.master?.stop();
    await this.fake?.stop();
  }
}
