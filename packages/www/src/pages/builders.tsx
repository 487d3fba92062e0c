/**
 * Builders: every builder with its latest results as coloured chips, its workers (and
 * whether they are connected), its tags and its queue; filter by name and tag (kept in the
 * URL, so a filtered view is a link). One round of requests, none per builder: the latest
 * results come from one read of the newest builds.
 */
import { byId, useBuilders, useWorkers } from '../api/hooks.js';
import { query } from '../api/client.js';
import { useApi } from '../api/store.js';
import type { Build, BuildRequest, Collection, Worker } from '../api/types.js';
import { Async, BuildChip, EmptyState, useReadyMark, useTitle } from '../components/common.js';
import { statusLabel, statusOf } from '../lib/results.js';
import { paths } from '../paths.js';
import { Link, replaceSearch, setSearchParams, useSearchParams } from '../router.js';

/** How many of the newest builds the result chips are drawn from. */
const RECENT_BUILDS = 800;
const CHIPS_PER_BUILDER = 10;

function workerState(worker: Worker, busy: Set<number>): 'busy' | 'idle' | 'offline' | 'paused' {
  if (worker.connected_to.length === 0) return 'offline';
  if (busy.has(worker.workerid)) return 'busy';
  if (worker.paused) return 'paused';
  return 'idle';
}

export function BuildersPage() {
  useTitle('Builders');
  const params = useSearchParams();
  const nameFilter = params.get('name') ?? '';
  const tagFilter = params.getAll('tag');
  const builders = useBuilders();
  const workers = useWorkers();
  const builds = useApi<Collection<'builds', Build>>(
    `/builds${query({
      order: '-buildid',
      limit: RECENT_BUILDS,
      field: 'buildid,builderid,number,results,complete,started_at,workerid',
    })}`,
    { live: ['builds/*/new', 'builds/*/finished'] },
  );
  const requests = useApi<Collection<'buildrequests', BuildRequest>>(
    `/buildrequests${query({ complete: false, claimed: false, field: 'buildrequestid,builderid', limit: 1000 })}`,
    { live: ['buildrequests/*/*'] },
  );
  useReadyMark(builders.data !== undefined && builds.data !== undefined, 'builders');

  const byBuilder = new Map<number, Build[]>();
  for (const b of builds.data?.builds ?? []) {
    const list = byBuilder.get(b.builderid) ?? [];
    if (list.length < CHIPS_PER_BUILDER) list.push(b);
    byBuilder.set(b.builderid, list);
  }
  const busy = new Set(
    (builds.data?.builds ?? [])
      .filter((b) => !b.complete && b.workerid !== null)
      .map((b) => b.workerid as number),
  );
  const pendingCount = new Map<number, number>();
  for (const r of requests.data?.buildrequests ?? []) {
    pendingCount.set(r.builderid, (pendingCount.get(r.builderid) ?? 0) + 1);
  }
  const workerList = workers.data?.workers ?? [];
  const workerMap = byId(workerList, (w) => w.workerid);
  const allTags = [...new Set((builders.data?.builders ?? []).flatMap((b) => b.tags))].sort();

  const toggleTag = (tag: string) => {
    const next = tagFilter.includes(tag) ? tagFilter.filter((t) => t !== tag) : [...tagFilter, tag];
    const search = new URLSearchParams();
    if (nameFilter) search.set('name', nameFilter);
    for (const t of next) search.append('tag', t);
    replaceSearch(search);
  };

  return (
    <div className="page page-builders">
      <h1 className="page-title">Builders</h1>
      <div className="filters">
        <input
          type="search"
          placeholder="Filter by name…"
          aria-label="Filter builders by name"
          value={nameFilter}
          onChange={(e) => setSearchParams({ name: e.target.value })}
        />
        {allTags.length > 0 && (
          <div className="tags" role="group" aria-label="Filter by tag">
            {allTags.map((tag) => (
              <button
                type="button"
                key={tag}
                className={`tag ${tagFilter.includes(tag) ? 'tag-on' : ''}`}
                aria-pressed={tagFilter.includes(tag)}
                onClick={() => toggleTag(tag)}
              >
                {tag}
              </button>
            ))}
          </div>
        )}
      </div>
      <Async query={builders} what="builders">
        {(data) => {
          const shown = data.builders.filter(
            (b) =>
              b.name.toLowerCase().includes(nameFilter.toLowerCase()) &&
              tagFilter.every((t) => b.tags.includes(t)),
          );
          if (data.builders.length === 0) {
            return (
              <EmptyState title="No builders are configured.">
                Add builders to <code>master.config.ts</code> and restart the master.
              </EmptyState>
            );
          }
          if (shown.length === 0) {
            return (
              <EmptyState title="No builder matches this filter.">
                <button type="button" onClick={() => setSearchParams({ name: null, tag: null })}>
                  Clear the filter
                </button>
              </EmptyState>
            );
          }
          return (
            <div className="panel">
              <table className="table builders-table">
                <thead>
                  <tr>
                    <th>Builder</th>
                    <th>Latest results (newest first)</th>
                    <th>Workers</th>
                    <th>Tags</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((b) => {
                    const recent = byBuilder.get(b.builderid) ?? [];
                    const pending = pendingCount.get(b.builderid) ?? 0;
                    const builderWorkers = workerList.filter((w) =>
                      w.configured_on.some((c) => c.builderid === b.builderid),
                    );
                    return (
                      <tr key={b.builderid} data-builder={b.name}>
                        <td>
                          <Link to={paths.builder(b.builderid)} className="strong">
                            {b.name}
                          </Link>
                          {b.description && <div className="muted small">{b.description}</div>}
                        </td>
                        <td>
                          <div className="chips">
                            {pending > 0 && (
                              <span className="chip status-pending" title={`${pending} waiting`}>
                                +{pending}
                              </span>
                            )}
                            {recent.map((build) => {
                              const status = statusOf(build);
                              return (
                                <BuildChip
                                  key={build.buildid}
                                  to={paths.build(b.builderid, build.number)}
                                  status={status}
                                  label={String(build.number)}
                                  title={`#${build.number}: ${statusLabel(status)}`}
                                />
                              );
                            })}
                            {recent.length === 0 && pending === 0 && (
                              <span className="muted small">no recent builds</span>
                            )}
                          </div>
                        </td>
                        <td>
                          <div className="worker-list">
                            {builderWorkers.length === 0 && (
                              <span className="muted small">none</span>
                            )}
                            {builderWorkers.map((w) => {
                              const state = workerState(workerMap.get(w.workerid) ?? w, busy);
                              return (
                                <span
                                  key={w.workerid}
                                  className={`worker-pill worker-${state}`}
                                  title={state}
                                >
                                  <span className="dot" aria-hidden="true" />
                                  {w.name}
                                </span>
                              );
                            })}
                          </div>
                        </td>
                        <td>
                          {b.tags.map((t) => (
                            <button
                              type="button"
                              key={t}
                              className={`tag ${tagFilter.includes(t) ? 'tag-on' : ''}`}
                              onClick={() => toggleTag(t)}
                            >
                              {t}
                            </button>
                          ))}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          );
        }}
      </Async>
    </div>
  );
}
