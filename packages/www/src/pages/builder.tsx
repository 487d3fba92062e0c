/**
 * One builder: its builds (paginated, newest first; the page is in the URL), its pending
 * requests (with how long each waited, and cancel), its workers, the force form of each
 * force scheduler that can start it, and stop/rebuild on its builds.
 */
import { useWorkers } from '../api/hooks.js';
import { query, rpc } from '../api/client.js';
import { refreshAll, useApi } from '../api/store.js';
import type { Build, BuildRequest, Builder, Collection, ForceScheduler } from '../api/types.js';
import {
  ActionButton,
  Ago,
  Async,
  Duration,
  Elapsed,
  EmptyState,
  Pager,
  Section,
  StatusBadge,
  useReadyMark,
  useTitle,
} from '../components/common.js';
import { ForceForm } from '../components/force-form.js';
import { elapsed } from '../lib/format.js';
import { statusOf } from '../lib/results.js';
import { useNow } from '../lib/use-now.js';
import { paths } from '../paths.js';
import { Link, navigate, setSearchParams, useSearchParams } from '../router.js';

const PAGE_SIZE = 25;

export async function stopBuild(buildid: number): Promise<void> {
  await rpc(`/builds/${buildid}`, 'stop', { reason: 'stopped from the web UI' });
  refreshAll();
}

export async function rebuild(buildid: number): Promise<void> {
  const [, brids] = await rpc<[number, Record<string, number>]>(`/builds/${buildid}`, 'rebuild', {
    reason: 'rebuilt from the web UI',
  });
  const brid = Object.values(brids)[0];
  if (brid !== undefined) navigate(paths.buildRequest(brid));
}

export async function cancelRequest(buildrequestid: number): Promise<void> {
  await rpc(`/buildrequests/${buildrequestid}`, 'cancel', { reason: 'cancelled from the web UI' });
  refreshAll();
}

type Query<T> = ReturnType<typeof useApi<T>>;

function BuildsTable({
  builder,
  page,
  builds,
}: {
  builder: Builder;
  page: number;
  builds: Query<Collection<'builds', Build>>;
}) {
  const now = useNow();
  const workers = useWorkers();
  const names = new Map((workers.data?.workers ?? []).map((w) => [w.workerid, w.name]));
  const total = builds.data?.meta.total ?? 0;
  return (
    <Section title="Builds" count={builds.data ? total : undefined} id="builds">
      <Async query={builds} what="builds">
        {(data) =>
          data.builds.length === 0 ? (
            <EmptyState
              title={
                page === 0 ? 'This builder has not built anything yet.' : 'No builds on this page.'
              }
            >
              {page === 0 ? (
                'Use the form to start its first build.'
              ) : (
                <Link to={paths.builder(builder.builderid)}>Newest builds</Link>
              )}
            </EmptyState>
          ) : (
            <>
              <table className="table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Result</th>
                    <th>Summary</th>
                    <th>Worker</th>
                    <th className="right">Started</th>
                    <th className="right">Took</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {data.builds.map((b) => (
                    <tr key={b.buildid} data-build-number={b.number}>
                      <td>
                        <Link to={paths.build(b.builderid, b.number)} className="strong">
                          #{b.number}
                        </Link>
                      </td>
                      <td>
                        <StatusBadge status={statusOf(b)} />
                      </td>
                      <td className="muted ellipsis">{b.state_string}</td>
                      <td>{b.workerid === null ? '—' : (names.get(b.workerid) ?? b.workerid)}</td>
                      <td className="right">
                        <Ago time={b.started_at} />
                      </td>
                      <td className="right">
                        {b.complete ? (
                          <Duration seconds={elapsed(b.started_at, b.complete_at, now)} />
                        ) : (
                          <Elapsed start={b.started_at} end={null} />
                        )}
                      </td>
                      <td className="right">
                        {b.complete ? (
                          <ActionButton
                            onAction={() => rebuild(b.buildid)}
                            title="Run this build again"
                          >
                            Rebuild
                          </ActionButton>
                        ) : (
                          <ActionButton onAction={() => stopBuild(b.buildid)} kind="danger">
                            Stop
                          </ActionButton>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager
                page={page}
                pageSize={PAGE_SIZE}
                total={total}
                onPage={(p) => setSearchParams({ page: p === 0 ? null : p }, { push: true })}
              />
            </>
          )
        }
      </Async>
    </Section>
  );
}

function PendingRequests({
  requests,
}: {
  requests: Query<Collection<'buildrequests', BuildRequest>>;
}) {
  const now = useNow();
  return (
    <Section title="Waiting for a worker" count={requests.data?.buildrequests.length} id="pending">
      <Async query={requests} what="pending requests">
        {(data) =>
          data.buildrequests.length === 0 ? (
            <EmptyState title="Nothing is waiting." />
          ) : (
            <ul className="pending-list">
              {data.buildrequests.map((r) => (
                <li key={r.buildrequestid} data-testid={`pending-${r.buildrequestid}`}>
                  <StatusBadge status="pending" />{' '}
                  <Link to={paths.buildRequest(r.buildrequestid)}>request {r.buildrequestid}</Link>
                  <span className="muted">
                    {' '}
                    waiting <Duration seconds={elapsed(r.submitted_at, null, now)} />
                    {r.priority !== 0 && <> · priority {r.priority}</>}
                  </span>{' '}
                  <ActionButton onAction={() => cancelRequest(r.buildrequestid)} kind="danger">
                    Cancel
                  </ActionButton>
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </Section>
  );
}

export function BuilderPage({ builderid }: { builderid: string }) {
  const params = useSearchParams();
  const page = Math.max(0, Number(params.get('page') ?? 0) || 0);
  const builder = useApi<Collection<'builders', Builder>>(
    `/builders/${encodeURIComponent(builderid)}`,
  );
  const data = builder.data?.builders[0];
  useTitle(data ? data.name : 'Builder');
  const schedulers = useApi<Collection<'forceschedulers', ForceScheduler>>(
    `/builders/${encodeURIComponent(builderid)}/forceschedulers`,
  );
  const workers = useWorkers();
  // Every read of the page goes out at once, by the builder in the URL (an id or a name);
  // live events (by id) are followed once the builder is known.
  const builds = useApi<Collection<'builds', Build>>(
    `/builders/${encodeURIComponent(builderid)}/builds${query({ order: '-number', limit: PAGE_SIZE, offset: page * PAGE_SIZE })}`,
    { live: data ? [`builders/${data.builderid}/builds/*/*`] : [] },
  );
  const pending = useApi<Collection<'buildrequests', BuildRequest>>(
    `/builders/${encodeURIComponent(builderid)}/buildrequests${query({ complete: false, claimed: false, order: 'buildrequestid' })}`,
    { live: data ? [`builders/${data.builderid}/buildrequests/*/*`] : [] },
  );
  useReadyMark(data !== undefined && builds.data !== undefined, 'builder');

  return (
    <div className="page page-builder">
      <Async query={builder} what="builder">
        {(found) => {
          const b = found.builders[0];
          if (!b) return <EmptyState title="No such builder." />;
          const builderWorkers = (workers.data?.workers ?? []).filter((w) =>
            w.configured_on.some((c) => c.builderid === b.builderid),
          );
          const forceSchedulers = schedulers.data?.forceschedulers ?? [];
          return (
            <>
              <nav className="crumbs">
                <Link to={paths.builders()}>Builders</Link> ›
              </nav>
              <h1 className="page-title">{b.name}</h1>
              {b.description && <p className="lead">{b.description}</p>}
              <div className="facts">
                <span>
                  Workers:{' '}
                  {builderWorkers.length === 0 ? (
                    <span className="muted">none configured</span>
                  ) : (
                    builderWorkers.map((w) => (
                      <Link
                        key={w.workerid}
                        to={`${paths.workers()}#worker-${w.name}`}
                        className={`worker-pill worker-${w.connected_to.length > 0 ? 'idle' : 'offline'}`}
                      >
                        <span className="dot" aria-hidden="true" />
                        {w.name}
                      </Link>
                    ))
                  )}
                </span>
                {b.tags.length > 0 && (
                  <span>
                    Tags:{' '}
                    {b.tags.map((t) => (
                      <Link
                        key={t}
                        to={`${paths.builders()}?tag=${encodeURIComponent(t)}`}
                        className="tag"
                      >
                        {t}
                      </Link>
                    ))}
                  </span>
                )}
              </div>
              <div className="columns columns-builder">
                <div>
                  <BuildsTable builder={b} page={page} builds={builds} />
                </div>
                <div>
                  <Section title="Start a build" id="force">
                    {schedulers.data === undefined ? (
                      schedulers.error ? (
                        <p className="muted">{schedulers.error.message}</p>
                      ) : (
                        <p className="muted">…</p>
                      )
                    ) : forceSchedulers.length === 0 ? (
                      <EmptyState title="No force scheduler starts this builder.">
                        Add{' '}
                        <code>
                          forceScheduler(&#123; builderNames: [&apos;{b.name}&apos;] &#125;)
                        </code>{' '}
                        to the config.
                      </EmptyState>
                    ) : (
                      forceSchedulers.map((s) => (
                        <div key={s.name}>
                          {forceSchedulers.length > 1 && <h3>{s.label}</h3>}
                          <ForceForm
                            scheduler={s}
                            builderid={b.builderid}
                            onForced={({ buildrequestids }) => {
                              const brid =
                                buildrequestids[String(b.builderid)] ??
                                Object.values(buildrequestids)[0];
                              refreshAll();
                              if (brid !== undefined) navigate(paths.buildRequest(brid));
                            }}
                          />
                        </div>
                      ))
                    )}
                  </Section>
                  <PendingRequests requests={pending} />
                </div>
              </div>
            </>
          );
        }}
      </Async>
    </div>
  );
}
