/** Masters: each master with its last heartbeat, what it runs and who is connected to it. */
import { useBuilders, useWorkers } from '../api/hooks.js';
import { useApi } from '../api/store.js';
import type { Collection, Master } from '../api/types.js';
import { Ago, Async, EmptyState, useReadyMark, useTitle } from '../components/common.js';
import { formatTime, plural } from '../lib/format.js';
import { useNow } from '../lib/use-now.js';

/** A master silent for longer than this is presumed gone (the default expiry). */
const EXPIRY_SECONDS = 15;

export function MastersPage() {
  useTitle('Masters');
  const now = useNow();
  const masters = useApi<Collection<'masters', Master>>('/masters', {
    live: ['masters/*/*'],
    refreshMs: 5_000,
  });
  const builders = useBuilders();
  const workers = useWorkers();
  useReadyMark(masters.data !== undefined, 'masters');
  return (
    <div className="page page-masters">
      <h1 className="page-title">Masters</h1>
      <Async query={masters} what="masters">
        {(data) =>
          data.masters.length === 0 ? (
            <EmptyState title="No master has registered." />
          ) : (
            <div className="panel">
              <table className="table">
                <thead>
                  <tr>
                    <th>Master</th>
                    <th>State</th>
                    <th>Last heartbeat</th>
                    <th>Builders</th>
                    <th>Workers connected</th>
                  </tr>
                </thead>
                <tbody>
                  {data.masters.map((m) => {
                    const silent = m.last_active === null ? Infinity : now - m.last_active;
                    const state = !m.active
                      ? 'stopped'
                      : silent > EXPIRY_SECONDS
                        ? 'silent'
                        : 'alive';
                    const builderCount = (builders.data?.builders ?? []).filter((b) =>
                      b.masterids.includes(m.masterid),
                    ).length;
                    const workerCount = (workers.data?.workers ?? []).filter((w) =>
                      w.connected_to.some((c) => c.masterid === m.masterid),
                    ).length;
                    return (
                      <tr key={m.masterid} data-master={m.name}>
                        <td>
                          <strong className="break">{m.name}</strong>
                          <div className="muted small">master {m.masterid}</div>
                        </td>
                        <td>
                          <span className={`worker-pill master-${state}`}>
                            <span className="dot" aria-hidden="true" />
                            {state}
                          </span>
                        </td>
                        <td title={formatTime(m.last_active)}>
                          <Ago time={m.last_active} />
                        </td>
                        <td>{plural(builderCount, 'builder')}</td>
                        <td>{plural(workerCount, 'worker')}</td>
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
