/**
 * Two masters, one cluster: the lease holder starts the pods, the pods connect to the other
 * master (as they would through a Service), which accepts them (their credentials are in
 * its pod cache), runs the builds and deletes the pods. When the lease holder stops, the
 * other master takes the lease over and starts pods itself. On PostgreSQL (the run's server,
 * a fresh database), as several masters are deployed.
 */
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FakeKubernetes,
  freePort,
  freshPostgresDatabase,
  makeTempDir,
  waitFor,
} from '@yardmaster/testkit';
import { Master } from '../../master.js';
import {
  buildFactory,
  builder,
  forceScheduler,
  kubernetesLatentWorker,
  shellCommand,
  validateConfig,
} from '../../config/index.js';
import { Results } from '../../results.js';
import { LABELS } from './pod-spec.js';

const started: Master[] = [];
let fake: FakeKubernetes | null = null;

afterAll(async () => {
  for (const master of started.reverse()) await master.stop();
  await fake?.stop();
});

describe('several masters', () => {
  it('share one latent worker: one starts pods, the one they connect to runs and deletes them', async () => {
    fake = await new FakeKubernetes().start();
    const basedir = await makeTempDir('ym-k8s-ha-');
    const dbUrl = await freshPostgresDatabase();
    const portA = await freePort();
    const config = validateConfig(
      {
        workers: [
          kubernetesLatentWorker('k8s', {
            image: 'yardmaster/worker:test',
            masterAddress: `127.0.0.1:${portA}`,
            maxPods: 3,
            // A pod started for a request the other master served meanwhile idles out soon.
            idleTimeout: 2,
            kubeconfig: fake.kubeconfigPath,
          }),
        ],
        builders: [
          builder({
            name: 'quick',
            workerNames: ['k8s'],
            collapseRequests: false,
            factory: buildFactory([shellCommand({ command: 'sleep 0.3' })]),
          }),
        ],
        schedulers: [forceScheduler({ name: 'force', builderNames: ['quick'] })],
        collapseRequests: false,
      },
      'several-masters',
    );
    const start = async (name: string, workerPort: number) => {
      const master = new Master({
        config,
        basedir,
        webPort: 0,
        webHost: '127.0.0.1',
        workerPort,
        workerHost: '127.0.0.1',
        dbUrl,
        masterName: name,
        logger: pino({ level: process.env.YARDMASTER_TEST_LOG ?? 'silent' }),
      });
      await master.start();
      started.push(master);
      return master;
    };
    // master-b starts first and holds the lease; the pods connect to master-a.
    const b = await start('master-b', await freePort());
    const a = await start('master-a', portA);
    const force = async (master: Master, count: number) => {
      const ids: number[] = [];
      for (let i = 0; i < count; i++) {
        const result = await master.force('force', { builderNames: ['quick'] }, null);
        ids.push(...Object.values(result.buildrequestids));
      }
      return ids;
    };
    const results = (ids: number[]) =>
      waitFor(
        async () => {
          const requests = await Promise.all(ids.map((id) => a.data.buildsets.getRequest(id)));
          return requests.every((r) => r?.complete) ? requests.map((r) => r?.results) : null;
        },
        { timeoutMs: 45_000, intervalMs: 100, message: 'every request completed' },
      );

    const first = await force(b, 6);
    expect(await results(first)).toEqual(first.map(() => Results.SUCCESS));
    const creators = () => [...(fake?.history.values() ?? [])].map((h) => h.labels[LABELS.master]);
    expect(new Set(creators())).toEqual(new Set(['master-b']));
    const builds = await a.data.builds.list(
      { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
      {},
    );
    // Every build ran on master-a, which the pods connected to.
    expect(new Set(builds.items.map((x) => x.masterid))).toEqual(new Set([a.masterid]));
    expect(fake.peakPods).toBeLessThanOrEqual(3);
    await waitFor(() => fake?.listPods().length === 0, { message: 'master-a deleted every pod' });

    // master-b leaves: master-a takes the lease over and starts the pods itself.
    await b.stop();
    started.splice(started.indexOf(b), 1);
    const second = await force(a, 3);
    expect(await results(second)).toEqual(second.map(() => Results.SUCCESS));
    expect(creators().slice(-3)).toEqual(['master-a', 'master-a', 'master-a']);
    expect(fake.deletedWhileBusy).toEqual([]);
    await waitFor(() => fake?.listPods().length === 0, { message: 'no pod is left' });
    // master-a checked the logins of master-b's pods against their password digests and
    // deleted their Secrets with them; 9 pods used at most 3 worker names.
    await waitFor(() => fake?.listSecrets().length === 0, { message: 'no Secret is left' });
    expect((await a.data.workers.list()).length).toBeLessThanOrEqual(3);
  });
});
