/**
 * Every `kubernetesLatentWorker` of the config, as one service of the master: a
 * `LatentWorkerPool` each, the registry's source of pod workers, the distributor's
 * observer (requests no worker could take become pod demand) and the metrics' pod counts.
 *
 * Owns the pools and their Kubernetes clients. A request is routed to the first latent
 * worker its builder lists. Reconfiguring keeps running pods: a pool whose latent worker
 * left the config starts nothing and deletes its pods as they become idle.
 */
import type { KubernetesLatentWorkerConfig } from '../../config/types.js';
import type { BuildRequestEntity } from '../../data/buildsets.js';
import type { DataApi } from '../../data/data-api.js';
import type { Logger } from '../../logger.js';
import type { PodCounts } from '../../master-probes.js';
import type { DynamicWorkerSource, WorkerRegistry } from '../worker-registry.js';
import { createKubeClient, type KubeClient } from './kube-client.js';
import { LatentWorkerPool } from './latent-pool.js';

export interface LatentWorkersDeps {
  data: DataApi;
  registry: WorkerRegistry;
  masterid: () => number;
  masterName: string;
  masterExpiryMs: number;
  distributorIdle: () => Promise<void>;
  log: Logger;
  /** The client of a latent worker (default: from its inCluster/kubeconfig/namespace). */
  clientFor?: (config: KubernetesLatentWorkerConfig) => KubeClient;
}

export interface BuilderWorkers {
  builderid: number;
  name: string;
  workerNames: string[];
}

export class KubernetesLatentWorkers implements DynamicWorkerSource {
  private readonly pools = new Map<string, LatentWorkerPool>();
  private readonly retired = new Set<LatentWorkerPool>();
  private builders = new Map<number, BuilderWorkers>();
  private readonly clients = new Map<string, KubeClient>();
  private registered = false;

  constructor(private readonly deps: LatentWorkersDeps) {}

  get size(): number {
    return this.pools.size;
  }

  /** Starts, reconfigures and retires pools to match `configs`. */
  async configure(configs: KubernetesLatentWorkerConfig[]): Promise<void> {
    if (!this.registered && configs.length > 0) {
      this.deps.registry.addDynamicSource(this);
      this.registered = true;
    }
    const wanted = new Set(configs.map((c) => c.name));
    for (const [name, pool] of this.pools) {
      if (!wanted.has(name)) {
        pool.remove();
        this.pools.delete(name);
        this.retired.add(pool);
      }
    }
    for (const config of configs) {
      const existing = this.pools.get(config.name);
      if (existing) {
        existing.configure(config);
        continue;
      }
      const pool = new LatentWorkerPool(config, {
        data: this.deps.data,
        registry: this.deps.registry,
        client: await this.clientFor(config),
        masterid: this.deps.masterid,
        masterName: this.deps.masterName,
        masterExpiryMs: this.deps.masterExpiryMs,
        distributorIdle: this.deps.distributorIdle,
        log: this.deps.log,
      });
      pool.builderNameOf = (builderid) => this.builders.get(builderid)?.name;
      this.pools.set(config.name, pool);
      await pool.start();
    }
  }

  private async clientFor(config: KubernetesLatentWorkerConfig): Promise<KubeClient> {
    if (this.deps.clientFor) return this.deps.clientFor(config);
    const key = JSON.stringify([config.inCluster, config.kubeconfig, config.namespace]);
    let client = this.clients.get(key);
    if (!client) {
      client = await createKubeClient({
        inCluster: config.inCluster,
        kubeconfig: config.kubeconfig,
        namespace: config.namespace,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  setBuilders(builders: BuilderWorkers[]): void {
    this.builders = new Map(builders.map((b) => [b.builderid, b]));
  }

  /** The distributor's observer: requests no connected worker could take. */
  unserved(requests: BuildRequestEntity[]): void {
    const byPool = new Map<string, BuildRequestEntity[]>(
      [...this.pools.keys()].map((name) => [name, []]),
    );
    for (const request of requests) {
      const names = this.builders.get(request.builderid)?.workerNames ?? [];
      const pool = names.find((name) => byPool.has(name));
      if (pool !== undefined) byPool.get(pool)?.push(request);
    }
    for (const [name, list] of byPool) this.pools.get(name)?.setDemand(list);
  }

  groupOf(name: string): string | null {
    for (const pool of [...this.pools.values(), ...this.retired]) {
      if (pool.knows(name)) return pool.name;
    }
    return null;
  }

  authenticate(name: string, password: string): boolean {
    return [...this.pools.values(), ...this.retired].some((pool) =>
      pool.authenticate(name, password),
    );
  }

  podCounts(): PodCounts[] {
    return [...this.pools.values()].map((pool) => ({
      latentWorker: pool.name,
      maxPods: pool.maxPods,
      byState: pool.counts(),
    }));
  }

  /** The master is stopping: start no more pods. */
  drain(): void {
    for (const pool of [...this.pools.values(), ...this.retired]) pool.drain();
  }

  /** Stops watching and managing pods; running pods are left for the next start. */
  async stop(): Promise<void> {
    await Promise.all([...this.pools.values(), ...this.retired].map((pool) => pool.stop()));
  }
}
