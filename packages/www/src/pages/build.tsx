/**
 * One build: its steps (state, result, duration) with their logs, its properties and where
 * each came from, its source stamps and changes, its worker, and stop / rebuild. The open
 * step and log are in the URL (`?step=2&log=stdio`), so a log is a link; without one the
 * page opens the running step, or the step that failed.
 */
import { useRef } from 'react';
import { useWorkers } from '../api/hooks.js';
import { query } from '../api/client.js';
import { useApi } from '../api/store.js';
import type { Build, Builder, Buildset, Change, Collection, Log, Step } from '../api/types.js';
import {
  ActionButton,
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
import { LogViewer } from '../components/log-viewer.js';
import { elapsed, formatTime, formatValue } from '../lib/format.js';
import { isBad, statusOf } from '../lib/results.js';
import { useNow } from '../lib/use-now.js';
import { paths } from '../paths.js';
import { Link, setSearchParams, useSearchParams } from '../router.js';
import { rebuild, stopBuild } from './builder.js';

type Query<T> = ReturnType<typeof useApi<T>>;

/** The open step's logs, from the build's logs (read once for all its steps). */
function StepLogs({
  step,
  build,
  logs,
  selected,
}: {
  step: Step;
  build: Build;
  logs: Query<Collection<'logs', Log>>;
  selected: string | null;
}) {
  return (
    <div className="step-logs">
      <Async query={logs} what="logs">
        {(all) => {
          const data = { logs: all.logs.filter((l) => l.stepid === step.stepid) };
          if (data.logs.length === 0) {
            return (
              <p className="muted small">
                {step.complete ? 'This step wrote no log.' : 'No log yet.'}
              </p>
            );
          }
          const log = data.logs.find((l) => l.slug === selected) ?? data.logs[0];
          if (!log) return null;
          return (
            <>
              <div className="log-tabs" role="tablist">
                {data.logs.map((l) => (
                  <button
                    type="button"
                    role="tab"
                    key={l.logid}
                    aria-selected={l.logid === log.logid}
                    className={`log-tab ${l.logid === log.logid ? 'log-tab-on' : ''}`}
                    onClick={() => setSearchParams({ step: step.number, log: l.slug })}
                  >
                    {l.name}
                  </button>
                ))}
                <Link
                  className="log-tab log-tab-link"
                  to={paths.log(build.builderid, build.number, step.number, log.slug)}
                >
                  Full screen ↗
                </Link>
              </div>
              <LogViewer key={log.logid} log={log} />
            </>
          );
        }}
      </Async>
    </div>
  );
}

function defaultStep(steps: Step[], build: Build): number | null {
  const running = steps.filter((s) => !s.complete);
  if (running.length > 0) return running[running.length - 1]?.number ?? null;
  if (build.complete) {
    const failed = steps.find((s) => isBad(statusOf(s)));
    if (failed) return failed.number;
  }
  return null;
}

function Steps({
  build,
  steps,
  logs,
}: {
  build: Build;
  steps: Query<Collection<'steps', Step>>;
  logs: Query<Collection<'logs', Log>>;
}) {
  const now = useNow();
  const params = useSearchParams();
  const lastAuto = useRef<number | null>(null);
  return (
    <Section title="Steps" id="steps">
      <Async query={steps} what="steps">
        {(data) => {
          if (data.steps.length === 0) return <EmptyState title="No step has started yet." />;
          const wanted = params.get('step');
          // The step opened for the user stays open when it ends (they may be reading it).
          const auto = defaultStep(data.steps, build) ?? lastAuto.current;
          lastAuto.current = auto;
          const open = wanted === 'none' ? null : wanted !== null ? Number(wanted) : auto;
          return (
            <ol className="steps">
              {data.steps
                .filter((s) => !s.hidden)
                .map((s) => {
                  const status = statusOf(s);
                  const isOpen = open === s.number;
                  return (
                    <li
                      key={s.stepid}
                      className={`step ${isOpen ? 'step-open' : ''}`}
                      data-step={s.name}
                      data-status={status}
                    >
                      <button
                        type="button"
                        className={`step-row status-edge-${status}`}
                        aria-expanded={isOpen}
                        onClick={() =>
                          setSearchParams({ step: isOpen ? 'none' : s.number, log: null })
                        }
                      >
                        <span className="step-number">{s.number}</span>
                        <StatusBadge status={status} />
                        <span className="step-name">{s.name}</span>
                        <span className="step-state muted ellipsis">{s.state_string}</span>
                        <span className="step-time">
                          {s.complete ? (
                            <Duration seconds={elapsed(s.started_at, s.complete_at, now)} />
                          ) : s.started_at !== null ? (
                            <Elapsed start={s.started_at} end={null} />
                          ) : (
                            '—'
                          )}
                        </span>
                        {s.urls.map((u) => (
                          <a
                            key={u.url}
                            href={u.url}
                            onClick={(e) => e.stopPropagation()}
                            className="step-url"
                          >
                            {u.name}
                          </a>
                        ))}
                      </button>
                      {isOpen && (
                        <StepLogs step={s} build={build} logs={logs} selected={params.get('log')} />
                      )}
                    </li>
                  );
                })}
            </ol>
          );
        }}
      </Async>
    </Section>
  );
}

function Properties({ build }: { build: Build }) {
  const entries = Object.entries(build.properties).sort(([a], [b]) => a.localeCompare(b));
  return (
    <Section title="Properties" count={entries.length} id="properties">
      {entries.length === 0 ? (
        <EmptyState title="No properties." />
      ) : (
        <table className="table table-compact properties">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {entries.map(([name, [value, source]]) => (
              <tr key={name}>
                <td className="mono">{name}</td>
                <td className="mono break">{formatValue(value)}</td>
                <td className="muted">{source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Sources({
  build,
  buildset,
  changes,
}: {
  build: Build;
  buildset: Query<Collection<'buildsets', Buildset>>;
  changes: Query<Collection<'changes', Change>>;
}) {
  const bs = buildset.data?.buildsets[0];
  return (
    <Section title="Why and what" id="sources">
      {bs ? (
        <>
          <p className="reason">{bs.reason}</p>
          <dl className="facts-list">
            <dt>Requested</dt>
            <dd>
              <Ago time={bs.submitted_at} /> ·{' '}
              <Link to={paths.buildRequest(build.buildrequestid)}>
                request {build.buildrequestid}
              </Link>
            </dd>
          </dl>
          {bs.sourcestamps.map((ss) => (
            <dl key={ss.ssid} className="facts-list sourcestamp">
              {ss.codebase && (
                <>
                  <dt>Codebase</dt>
                  <dd>{ss.codebase}</dd>
                </>
              )}
              <dt>Repository</dt>
              <dd className="mono break">
                {ss.repository || <span className="muted">(any)</span>}
              </dd>
              <dt>Branch</dt>
              <dd className="mono">{ss.branch ?? <span className="muted">(default)</span>}</dd>
              <dt>Revision</dt>
              <dd className="mono break">
                {ss.revision ?? <span className="muted">(latest)</span>}
              </dd>
            </dl>
          ))}
        </>
      ) : (
        <p className="muted">
          {buildset.error ? `Could not read the source stamp: ${buildset.error.message}` : '…'}
        </p>
      )}
      <h3>Changes</h3>
      {changes.data === undefined ? (
        <p className="muted">{changes.error ? changes.error.message : '…'}</p>
      ) : changes.data.changes.length === 0 ? (
        <p className="muted small">No changes: this build was forced or rebuilt.</p>
      ) : (
        <ul className="changes">
          {changes.data.changes.map((c) => (
            <li key={c.changeid}>
              <span className="mono">{(c.revision ?? '').slice(0, 10)}</span>{' '}
              {c.comments.split('\n')[0]}
              <div className="muted small">
                {c.author} · <Ago time={c.when_timestamp} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

export function BuildPage({ builderid, number }: { builderid: string; number: string }) {
  const base = `/builders/${encodeURIComponent(builderid)}/builds/${encodeURIComponent(number)}`;
  const buildRead = `${base}${query({ property: '*' })}`;
  // Build events are keyed by builder id: the URL's, or once read, the build's (the URL
  // may name the builder). The same cache entry as buildQuery, read first for its id.
  const known = useApi<Collection<'builds', Build>>(buildRead).data?.builds[0];
  const buildQuery = useApi<Collection<'builds', Build>>(buildRead, {
    live: [`builders/${known?.builderid ?? builderid}/builds/${number}/*`],
  });
  const builder = useApi<Collection<'builders', Builder>>(
    `/builders/${encodeURIComponent(builderid)}`,
  );
  const workers = useWorkers();
  // Everything else goes out with the build, by the path in the URL (one round, decision
  // 0011). Step events are keyed by the build's id: until it is read, any build's step
  // events count (only for that first round trip), so a step that starts meanwhile is not
  // missed; a finished build's steps and logs do not change.
  const current = buildQuery.data?.builds[0];
  const running = current === undefined || !current.complete;
  const stepEvents = !running
    ? []
    : [current ? `builds/${current.buildid}/steps/*/*` : 'builds/*/steps/*/*'];
  const steps = useApi<Collection<'steps', Step>>(`${base}/steps`, { live: stepEvents });
  // A running build's new logs: a log's events are keyed by its step, whose id may not be
  // read yet when the log appears, so any new log (a rare event) re-reads this list.
  const logs = useApi<Collection<'logs', Log>>(`${base}/logs`, {
    live: running ? [...stepEvents, 'steps/*/logs/*/new'] : [],
  });
  // What the buildset shows here (reason, source stamps, when) does not change.
  const buildset = useApi<Collection<'buildsets', Buildset>>(`${base}/buildset`);
  const changes = useApi<Collection<'changes', Change>>(`${base}/changes`);
  const builderName = builder.data?.builders[0]?.name ?? `builder ${builderid}`;
  useTitle(`${builderName} #${number}`);
  useReadyMark(buildQuery.data !== undefined && steps.data !== undefined, 'build');

  return (
    <div className="page page-build">
      <Async query={buildQuery} what="build">
        {(data) => {
          const build = data.builds[0];
          if (!build) return <EmptyState title="No such build." />;
          const status = statusOf(build);
          const worker = workers.data?.workers.find((w) => w.workerid === build.workerid);
          const info = worker?.workerinfo ?? {};
          return (
            <>
              <nav className="crumbs">
                <Link to={paths.builders()}>Builders</Link> ›{' '}
                <Link to={paths.builder(build.builderid)}>{builderName}</Link> ›
              </nav>
              <div className={`build-head status-edge-${status}`}>
                <div>
                  <h1 className="page-title">
                    {builderName} <span className="muted">#{build.number}</span>
                  </h1>
                  <div className="build-state">
                    <StatusBadge status={status} />
                    <span data-testid="build-state">{build.state_string}</span>
                  </div>
                </div>
                <div className="build-actions">
                  {build.complete ? (
                    <ActionButton
                      onAction={() => rebuild(build.buildid)}
                      kind="primary"
                      testId="rebuild"
                    >
                      Rebuild
                    </ActionButton>
                  ) : (
                    <ActionButton
                      onAction={() => stopBuild(build.buildid)}
                      kind="danger"
                      testId="stop"
                    >
                      Stop
                    </ActionButton>
                  )}
                </div>
              </div>
              <dl className="facts-inline">
                <div>
                  <dt>Started</dt>
                  <dd title={formatTime(build.started_at)}>
                    <Ago time={build.started_at} />
                  </dd>
                </div>
                <div>
                  <dt>{build.complete ? 'Took' : 'Running for'}</dt>
                  <dd>
                    <Elapsed start={build.started_at} end={build.complete_at} />
                  </dd>
                </div>
                <div>
                  <dt>Worker</dt>
                  <dd>
                    {worker ? (
                      <Link to={`${paths.workers()}#worker-${worker.name}`}>{worker.name}</Link>
                    ) : (
                      '—'
                    )}
                    {typeof info.host === 'string' && (
                      <span className="muted small"> on {info.host}</span>
                    )}
                  </dd>
                </div>
                <div>
                  <dt>Build id</dt>
                  <dd className="mono">{build.buildid}</dd>
                </div>
              </dl>
              <div className="columns columns-build">
                <div>
                  <Steps build={build} steps={steps} logs={logs} />
                </div>
                <div>
                  <Sources build={build} buildset={buildset} changes={changes} />
                  <Properties build={build} />
                </div>
              </div>
            </>
          );
        }}
      </Async>
    </div>
  );
}

/** A log on its own page, as tall as the window: for long logs. */
export function LogPage({
  builderid,
  number,
  step,
  slug,
}: {
  builderid: string;
  number: string;
  step: string;
  slug: string;
}) {
  const path = `/builders/${encodeURIComponent(builderid)}/builds/${encodeURIComponent(number)}/steps/${encodeURIComponent(step)}/logs/${encodeURIComponent(slug)}`;
  const log = useApi<Collection<'logs', Log>>(path);
  const stepQuery = useApi<Collection<'steps', Step>>(
    `/builders/${encodeURIComponent(builderid)}/builds/${encodeURIComponent(number)}/steps/${encodeURIComponent(step)}`,
  );
  const builder = useApi<Collection<'builders', Builder>>(
    `/builders/${encodeURIComponent(builderid)}`,
  );
  const name = builder.data?.builders[0]?.name ?? `builder ${builderid}`;
  const stepName = stepQuery.data?.steps[0]?.name ?? `step ${step}`;
  useTitle(`${slug} · ${stepName} · ${name} #${number}`);
  useReadyMark(log.data !== undefined, 'log');
  return (
    <div className="page page-log">
      <nav className="crumbs">
        <Link to={paths.builder(builderid)}>{name}</Link> ›{' '}
        <Link
          to={`${paths.build(builderid, number)}?step=${encodeURIComponent(step)}&log=${encodeURIComponent(slug)}`}
        >
          #{number}
        </Link>{' '}
        › {stepName} › <strong>{slug}</strong>
      </nav>
      <Async query={log} what="log">
        {(data) => {
          const l = data.logs[0];
          return l ? <LogViewer log={l} fill /> : <EmptyState title="No such log." />;
        }}
      </Async>
    </div>
  );
}
