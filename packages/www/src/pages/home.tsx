/**
 * Home: the state of the CI at a glance. What runs now (with its step and elapsed time),
 * what waits in the queue per builder (and for how long), what finished lately, and how
 * the last 24 hours went. One round of requests (the running builds' current steps come
 * from one `/steps?complete=false` read, not one per build); live events keep it current.
 */
import { byId, useBuilders, useWorkers } from '../api/hooks.js';
import { query } from '../api/client.js';
import { useApi } from '../api/store.js';
import type { Build, BuildRequest, Builder, Collection, Step, Worker } from '../api/types.js';
import {
  Ago,
  Async,
  Duration,
  Elapsed,
  EmptyState,
  Section,
  StatusBadge,
  useReadyMark,
  useTitle,
} from '../components/common.js';
import { elapsed, formatDuration, plural } from '../lib/format.js';
import { RESULT_CODES, resultStatus, statusOf } from '../lib/results.js';
import { useNow } from '../lib/use-now.js';
import { paths } from '../paths.js';
import { Link } from '../router.js';

const DAY = 86_400;
/** Up to this many builds a day, the tallies come from one read of their results. */
const TALLY_READ = 3000;

/** Why a builder's requests wait, from its workers' states: what a newcomer asks first. */
function whyWaiting(builderid: number, workers: Worker[], busy: Set<number>): string {
  const mine = workers.filter((w) => w.configured_on.some((c) => c.builderid === builderid));
  if (mine.length === 0) return 'No worker is configured for this builder.';
  const connected = mine.filter((w) => w.connected_to.length > 0);
  if (connected.length === 0) {
    return `No worker connected (${mine.map((w) => w.name).join(', ')} offline).`;
  }
  const usable = connected.filter((w) => !w.paused && !w.graceful);
  if (usable.length === 0)
    return `Its workers are paused or shutting down (${connected.map((w) => w.name).join(', ')}).`;
  if (usable.every((w) => busy.has(w.workerid))) return 'Its workers are busy.';
  return 'Starting…';
}

function builderName(builders: Map<number, Builder>, id: number): string {
  return builders.get(id)?.name ?? `builder ${id}`;
}

/** At most this many running steps are read (the running builds are read up to 200). */
const RUNNING_STEPS_READ = 400;
type RunningStep = Pick<Step, 'stepid' | 'buildid' | 'name' | 'state_string' | 'started_at'>;

/**
 * The step each running build is on: every unfinished step, of every build, in one read
 * (`/steps?complete=false`, decision 0011) that goes out with the builds, not one per row.
 */
function useRunningSteps(): { byBuild: Map<number, RunningStep>; loaded: boolean } {
  const steps = useApi<Collection<'steps', RunningStep>>(
    `/steps${query({
      complete: false,
      order: '-stepid',
      limit: RUNNING_STEPS_READ,
      field: 'stepid,buildid,name,state_string,started_at',
    })}`,
    { live: ['steps/*/*'] },
  );
  const byBuild = new Map<number, RunningStep>();
  // Newest first: a build's latest unfinished step is the one it is on.
  for (const s of steps.data?.steps ?? []) if (!byBuild.has(s.buildid)) byBuild.set(s.buildid, s);
  return { byBuild, loaded: steps.data !== undefined };
}

/** The step a running build is on. */
function CurrentStep({ step, loaded }: { step: RunningStep | undefined; loaded: boolean }) {
  if (!step) return <span className="muted">{loaded ? 'between steps' : '…'}</span>;
  return (
    <span className="current-step">
      <span className="pulse" aria-hidden="true" />
      <strong>{step.name}</strong>
      {step.state_string && step.state_string !== step.name && (
        <span className="muted"> — {step.state_string}</span>
      )}
      {' · '}
      <Elapsed start={step.started_at} end={null} />
    </span>
  );
}

function Tally({ code, total }: { code: number; total: number | undefined }) {
  const status = resultStatus(code);
  return (
    <div
      className={`tally status-${status} ${total === 0 ? 'tally-zero' : ''}`}
      style={{ ['--tally-colour' as string]: `var(--${status})` }}
      data-result={status}
      title={`${total ?? '…'} ${status} in the last 24 hours`}
    >
      <span className="tally-number">{total ?? '…'}</span>
      <span className="tally-label">{status}</span>
    </div>
  );
}

/** One count read per result: for a master that finished more builds than we read at once. */
function CountedTally({ code, since }: { code: number; since: number }) {
  const counts = useApi<Collection<'builds', Build>>(
    `/builds${query({ results: code, complete_at__ge: since, limit: 0 })}`,
    { live: ['builds/*/finished'] },
  );
  return <Tally code={code} total={counts.data?.meta.total} />;
}

/**
 * Builds per result since `since`: one read of their results (a few bytes each) when there
 * are at most TALLY_READ of them, else one count read per result.
 */
function Tallies({ since }: { since: number }) {
  const finished = useApi<Collection<'builds', Pick<Build, 'results'>>>(
    `/builds${query({ complete_at__ge: since, field: 'results', limit: TALLY_READ })}`,
    { live: ['builds/*/finished'] },
  );
  const data = finished.data;
  const tooMany = data !== undefined && (data.meta.total ?? 0) > data.builds.length;
  const counts = new Map<number, number>();
  for (const b of data?.builds ?? []) {
    if (b.results !== null) counts.set(b.results, (counts.get(b.results) ?? 0) + 1);
  }
  return (
    <>
      {RESULT_CODES.map((code) =>
        tooMany ? (
          <CountedTally key={code} code={code} since={since} />
        ) : (
          <Tally key={code} code={code} total={data ? (counts.get(code) ?? 0) : undefined} />
        ),
      )}
    </>
  );
}

function Summary({
  running,
  pending,
  workers,
  now,
}: {
  running: number;
  pending: BuildRequest[];
  workers: { connected: number; total: number; busy: number; paused: number } | null;
  now: number;
}) {
  const oldest = pending.reduce<number | null>(
    (min, r) =>
      r.submitted_at !== null && (min === null || r.submitted_at < min) ? r.submitted_at : min,
    null,
  );
  // Counts for the last 24 hours, from the start of the hour, so the path stays the same.
  const since = Math.floor(now / 3600) * 3600 - DAY;
  return (
    <div className="summary">
      <div className="summary-cards">
        <div className={`card ${running > 0 ? 'card-running' : ''}`} data-testid="running-count">
          <span className="card-number">{running}</span>
          <span className="card-label">running</span>
        </div>
        <div
          className={`card ${pending.length > 0 ? 'card-pending' : ''}`}
          data-testid="pending-count"
        >
          <span className="card-number">{pending.length}</span>
          <span className="card-label">
            waiting{oldest !== null && <> · oldest {formatDuration(now - oldest)}</>}
          </span>
        </div>
        <div className="card">
          <span className="card-number">
            {workers ? `${workers.connected}/${workers.total}` : '…'}
          </span>
          <span className="card-label">
            workers connected{workers && workers.busy > 0 && <> · {workers.busy} busy</>}
            {workers && workers.paused > 0 && <> · {workers.paused} paused</>}
          </span>
        </div>
      </div>
      <div className="tallies" aria-label="results in the last 24 hours">
        <span className="tallies-title">Last 24 hours</span>
        <Tallies since={since} />
      </div>
    </div>
  );
}

export function HomePage() {
  useTitle('Home');
  const now = useNow();
  const builders = useBuilders();
  const workers = useWorkers();
  const running = useApi<Collection<'builds', Build>>(
    `/builds${query({ complete: false, order: '-buildid', limit: 200 })}`,
    { live: ['builds/*/*'] },
  );
  const requests = useApi<Collection<'buildrequests', BuildRequest>>(
    `/buildrequests${query({ complete: false, order: 'buildrequestid', limit: 500 })}`,
    { live: ['buildrequests/*/*'] },
  );
  const runningSteps = useRunningSteps();
  const recent = useApi<Collection<'builds', Build>>(
    `/builds${query({ complete: true, order: '-complete_at', limit: 20 })}`,
    { live: ['builds/*/finished'] },
  );
  const builderMap = byId(builders.data?.builders, (b) => b.builderid);
  const workerMap = byId(workers.data?.workers, (w) => w.workerid);
  const pending = (requests.data?.buildrequests ?? []).filter((r) => !r.claimed);
  const runningBuilds = running.data?.builds ?? [];
  const busyWorkers = new Set(runningBuilds.map((b) => b.workerid).filter((w) => w !== null));
  const workerCounts = workers.data
    ? {
        total: workers.data.workers.length,
        connected: workers.data.workers.filter((w) => w.connected_to.length > 0).length,
        busy: busyWorkers.size,
        paused: workers.data.workers.filter((w) => w.paused).length,
      }
    : null;
  useReadyMark(
    running.data !== undefined && requests.data !== undefined && recent.data !== undefined,
    'home',
  );

  // Oldest first, and the builder waiting longest first.
  const queueByBuilder = new Map<number, BuildRequest[]>();
  for (const r of [...pending].sort((a, b) => (a.submitted_at ?? 0) - (b.submitted_at ?? 0))) {
    const list = queueByBuilder.get(r.builderid) ?? [];
    list.push(r);
    queueByBuilder.set(r.builderid, list);
  }
  const workerList = workers.data?.workers ?? [];

  return (
    <div className="page page-home">
      <h1 className="page-title">Overview</h1>
      <Summary running={runningBuilds.length} pending={pending} workers={workerCounts} now={now} />
      <div className="columns">
        <Section
          title="Running now"
          count={running.data ? runningBuilds.length : undefined}
          id="running"
        >
          <Async query={running} what="running builds">
            {(data) =>
              data.builds.length === 0 ? (
                <EmptyState title="Nothing is running.">
                  Force a build from a <Link to={paths.builders()}>builder&apos;s page</Link>.
                </EmptyState>
              ) : (
                <table className="table">
                  <thead>
                    <tr>
                      <th>Build</th>
                      <th>Step</th>
                      <th>Worker</th>
                      <th className="right">Elapsed</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.builds.map((b) => (
                      <tr key={b.buildid} data-testid={`running-build-${b.buildid}`}>
                        <td>
                          <StatusBadge status="running" />{' '}
                          <Link to={paths.build(b.builderid, b.number)}>
                            {builderName(builderMap, b.builderid)} #{b.number}
                          </Link>
                        </td>
                        <td>
                          <CurrentStep
                            step={runningSteps.byBuild.get(b.buildid)}
                            loaded={runningSteps.loaded}
                          />
                        </td>
                        <td>
                          {b.workerid === null
                            ? '—'
                            : (workerMap.get(b.workerid)?.name ?? b.workerid)}
                        </td>
                        <td className="right">
                          <Elapsed start={b.started_at} end={null} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Async>
        </Section>
        <Section
          title="Waiting in the queue"
          count={requests.data ? pending.length : undefined}
          id="queue"
        >
          <Async query={requests} what="the queue">
            {() =>
              pending.length === 0 ? (
                <EmptyState title="The queue is empty.">Every request has a worker.</EmptyState>
              ) : (
                <ul className="queue">
                  {[...queueByBuilder].map(([builderid, list]) => (
                    <li key={builderid} className="queue-builder">
                      <div className="queue-head">
                        <Link to={paths.builder(builderid)}>
                          {builderName(builderMap, builderid)}
                        </Link>
                        <span className="muted">{plural(list.length, 'request')}</span>
                      </div>
                      {workers.data && (
                        <div className="queue-why">
                          {whyWaiting(builderid, workerList, busyWorkers)}
                        </div>
                      )}
                      <ul className="queue-requests">
                        {list.slice(0, 5).map((r) => (
                          <li key={r.buildrequestid}>
                            <StatusBadge status="pending" label="…" title="pending" />{' '}
                            <Link to={paths.buildRequest(r.buildrequestid)}>
                              request {r.buildrequestid}
                            </Link>
                            <span className="muted">
                              {' '}
                              waiting{' '}
                              <span className="num">
                                {formatDuration(elapsed(r.submitted_at, null, now) ?? 0)}
                              </span>
                            </span>
                          </li>
                        ))}
                        {list.length > 5 && <li className="muted">and {list.length - 5} more</li>}
                      </ul>
                    </li>
                  ))}
                </ul>
              )
            }
          </Async>
        </Section>
      </div>
      <Section title="Recently finished" id="recent">
        <Async query={recent} what="recent builds">
          {(data) =>
            data.builds.length === 0 ? (
              <EmptyState title="No build has finished yet." />
            ) : (
              <table className="table">
                <thead>
                  <tr>
                    <th>Result</th>
                    <th>Build</th>
                    <th>Summary</th>
                    <th>Worker</th>
                    <th className="right">Took</th>
                    <th className="right">Finished</th>
                  </tr>
                </thead>
                <tbody>
                  {data.builds.map((b) => (
                    <tr key={b.buildid}>
                      <td>
                        <StatusBadge status={statusOf(b)} />
                      </td>
                      <td>
                        <Link to={paths.build(b.builderid, b.number)}>
                          {builderName(builderMap, b.builderid)} #{b.number}
                        </Link>
                      </td>
                      <td className="muted ellipsis">{b.state_string}</td>
                      <td>
                        {b.workerid === null
                          ? '—'
                          : (workerMap.get(b.workerid)?.name ?? b.workerid)}
                      </td>
                      <td className="right">
                        <Duration seconds={elapsed(b.started_at, b.complete_at, now)} />
                      </td>
                      <td className="right">
                        <Ago time={b.complete_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Async>
      </Section>
    </div>
  );
}
