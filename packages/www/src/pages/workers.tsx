/**
 * Workers: who is connected, idle or busy (and with which builds), paused or shutting down;
 * pause / unpause, graceful shutdown (finish the running builds, take no new one, then
 * disconnect) and kill (disconnect now).
 */
import { byId, useBuilders, useWorkers } from '../api/hooks.js';
import { query, rpc } from '../api/client.js';
import { refreshAll, useApi } from '../api/store.js';
import type { Build, Collection, Worker } from '../api/types.js';
import {
  ActionButton,
  Async,
  Elapsed,
  EmptyState,
  useReadyMark,
  useTitle,
} from '../components/common.js';
import { formatValue } from '../lib/format.js';
import { paths } from '../paths.js';
import { Link } from '../router.js';

type WorkerState = 'offline' | 'busy' | 'idle';

async function control(
  worker: Worker,
  method: 'pause' | 'unpause' | 'stop' | 'kill',
): Promise<void> {
  await rpc(`/workers/${worker.workerid}`, method, { reason: `${method} from the web UI` });
  refreshAll();
}

function infoText(info: Record<string, unknown>): string {
  const parts = [
    info.host,
    info.os_info ?? info.osInfo,
    info.version ? `version ${formatValue(info.version)}` : undefined,
  ];
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join(' · ');
}

export function WorkersPage() {
  useTitle('Workers');
  const workers = useWorkers();
  const builders = useBuilders();
  const running = useApi<Collection<'builds', Build>>(
    `/builds${query({ complete: false, field: 'buildid,builderid,number,workerid,started_at' })}`,
    { live: ['builds/*/*'] },
  );
  const builderMap = byId(builders.data?.builders, (b) => b.builderid);
  const buildsOf = new Map<number, Build[]>();
  for (const b of running.data?.builds ?? []) {
    if (b.workerid === null) continue;
    buildsOf.set(b.workerid, [...(buildsOf.get(b.workerid) ?? []), b]);
  }
  useReadyMark(workers.data !== undefined && running.data !== undefined, 'workers');

  return (
    <div className="page page-workers">
      <h1 className="page-title">Workers</h1>
      <Async query={workers} what="workers">
        {(data) =>
          data.workers.length === 0 ? (
            <EmptyState title="No workers are configured.">
              Add <code>worker(&apos;name&apos;, &#123; password &#125;)</code> to the config, then
              start <code>yardmaster worker</code> or a buildbot-worker.
            </EmptyState>
          ) : (
            <div className="panel">
              <table className="table workers-table">
                <thead>
                  <tr>
                    <th>Worker</th>
                    <th>State</th>
                    <th>Running</th>
                    <th>Builders</th>
                    <th className="right">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {data.workers.map((w) => {
                    const builds = buildsOf.get(w.workerid) ?? [];
                    const connected = w.connected_to.length > 0;
                    const state: WorkerState = !connected
                      ? 'offline'
                      : builds.length > 0
                        ? 'busy'
                        : 'idle';
                    const info = infoText(w.workerinfo);
                    return (
                      <tr key={w.workerid} id={`worker-${w.name}`} data-worker={w.name}>
                        <td>
                          <strong>{w.name}</strong>
                          {info && <div className="muted small">{info}</div>}
                        </td>
                        <td>
                          <span
                            className={`worker-pill worker-${state}`}
                            data-testid={`worker-state-${w.name}`}
                          >
                            <span className="dot" aria-hidden="true" />
                            {state}
                          </span>
                          {w.paused && <span className="flag flag-paused">paused</span>}
                          {w.graceful && <span className="flag flag-graceful">shutting down</span>}
                        </td>
                        <td>
                          {builds.length === 0 ? (
                            <span className="muted">—</span>
                          ) : (
                            builds.map((b) => (
                              <div key={b.buildid}>
                                <Link to={paths.build(b.builderid, b.number)}>
                                  {builderMap.get(b.builderid)?.name ?? b.builderid} #{b.number}
                                </Link>{' '}
                                <span className="muted small">
                                  <Elapsed start={b.started_at} end={null} />
                                </span>
                              </div>
                            ))
                          )}
                        </td>
                        <td className="small">
                          {w.configured_on.length === 0 ? (
                            <span className="muted">none</span>
                          ) : (
                            [...new Set(w.configured_on.map((c) => c.builderid))].map((id) => (
                              <Link key={id} to={paths.builder(id)} className="tag">
                                {builderMap.get(id)?.name ?? id}
                              </Link>
                            ))
                          )}
                        </td>
                        <td className="right nowrap">
                          {w.paused ? (
                            <ActionButton
                              onAction={() => control(w, 'unpause')}
                              testId={`unpause-${w.name}`}
                            >
                              Unpause
                            </ActionButton>
                          ) : (
                            <ActionButton
                              onAction={() => control(w, 'pause')}
                              title="Take no new builds; running ones go on"
                              testId={`pause-${w.name}`}
                            >
                              Pause
                            </ActionButton>
                          )}
                          {connected && !w.graceful && (
                            <ActionButton
                              onAction={() => control(w, 'stop')}
                              title="Finish the running builds, take no new one, then disconnect"
                              confirm={`Shut ${w.name} down once its builds finish?`}
                            >
                              Shut down
                            </ActionButton>
                          )}
                          {connected && (
                            <ActionButton
                              onAction={() => control(w, 'kill')}
                              kind="danger"
                              title="Disconnect now; running builds are retried elsewhere"
                              confirm={`Disconnect ${w.name} now? Its running builds will be retried.`}
                            >
                              Kill
                            </ActionButton>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </div>
  );
}
