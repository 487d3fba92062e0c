/**
 * Grid: builders (rows) × the latest buildsets (columns: a change, a force, a rebuild),
 * each cell the colour of that builder's build for it (yellow while pending or running).
 * One round of requests: the newest buildsets, requests and builds, joined here.
 */
import { useBuilders } from '../api/hooks.js';
import { query } from '../api/client.js';
import { useApi } from '../api/store.js';
import type { Build, BuildRequest, Builder, Buildset, Collection } from '../api/types.js';
import { Async, BuildChip, EmptyState, useReadyMark, useTitle } from '../components/common.js';
import { statusLabel, statusOf, type Status } from '../lib/results.js';
import { paths } from '../paths.js';
import { Link, setSearchParams, useSearchParams } from '../router.js';

const COLUMNS = 20;
const DEPTH = 600;

interface Cell {
  status: Status;
  build: Build | undefined;
  request: BuildRequest;
}

export function GridPage() {
  useTitle('Grid');
  const params = useSearchParams();
  const branch = params.get('branch') ?? '';
  const showAll = params.get('all') === '1';
  const byBuilds = params.get('by') === 'builds';
  const builders = useBuilders();
  const buildsets = useApi<Collection<'buildsets', Buildset>>(
    `/buildsets${query({ order: '-bsid', limit: COLUMNS * 2 })}`,
    { live: ['buildsets/*/*'] },
  );
  const requests = useApi<Collection<'buildrequests', BuildRequest>>(
    `/buildrequests${query({
      order: '-buildrequestid',
      limit: DEPTH,
      field: 'buildrequestid,buildsetid,builderid,complete,results,claimed',
    })}`,
    { live: ['buildrequests/*/*'] },
  );
  const builds = useApi<Collection<'builds', Build>>(
    `/builds${query({
      order: '-buildid',
      limit: DEPTH,
      field: 'buildid,buildrequestid,builderid,number,results,complete,started_at',
    })}`,
    { live: ['builds/*/new', 'builds/*/finished'] },
  );
  useReadyMark(
    builders.data !== undefined &&
      buildsets.data !== undefined &&
      requests.data !== undefined &&
      builds.data !== undefined,
    'grid',
  );

  const sets = new Map((buildsets.data?.buildsets ?? []).map((bs) => [bs.bsid, bs]));
  const buildsByRequest = new Map<number, Build>();
  for (const b of [...(builds.data?.builds ?? [])].reverse())
    buildsByRequest.set(b.buildrequestid, b);
  const cells = new Map<string, Cell>();
  const columnIds = new Set<number>();
  for (const r of requests.data?.buildrequests ?? []) {
    const bs = sets.get(r.buildsetid);
    if (branch && !(bs?.sourcestamps ?? []).some((ss) => (ss.branch ?? '') === branch)) continue;
    if (!columnIds.has(r.buildsetid) && columnIds.size >= COLUMNS) continue;
    columnIds.add(r.buildsetid);
    const build = buildsByRequest.get(r.buildrequestid);
    const status: Status = build ? statusOf(build) : r.complete ? statusOf(r) : 'pending';
    cells.set(`${r.builderid}:${r.buildsetid}`, { status, build, request: r });
  }
  const columns = [...columnIds].sort((a, b) => b - a);
  const branches = [
    ...new Set(
      (buildsets.data?.buildsets ?? []).flatMap((bs) =>
        bs.sourcestamps.map((ss) => ss.branch ?? ''),
      ),
    ),
  ].filter(Boolean);

  return (
    <div className="page page-grid">
      <h1 className="page-title">Grid</h1>
      <p className="lead">
        Each column is a buildset (a change, a forced build, a rebuild), newest on the left.
      </p>
      <div className="filters">
        <div className="segmented" role="group" aria-label="columns">
          <button
            type="button"
            aria-pressed={!byBuilds}
            className={byBuilds ? '' : 'segmented-on'}
            onClick={() => setSearchParams({ by: null })}
          >
            By buildset
          </button>
          <button
            type="button"
            aria-pressed={byBuilds}
            className={byBuilds ? 'segmented-on' : ''}
            onClick={() => setSearchParams({ by: 'builds' })}
          >
            Latest builds per builder
          </button>
        </div>
        <label>
          Branch{' '}
          <select value={branch} onChange={(e) => setSearchParams({ branch: e.target.value })}>
            <option value="">all branches</option>
            {branches.map((b) => (
              <option key={b}>{b}</option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={showAll}
            onChange={(e) => setSearchParams({ all: e.target.checked ? '1' : null })}
          />{' '}
          show builders without builds here
        </label>
      </div>
      <Async query={builders} what="builders">
        {(data) => {
          if (byBuilds)
            return <LatestBuilds builders={data.builders} builds={builds.data?.builds ?? []} />;
          const rows = data.builders.filter(
            (b) => showAll || columns.some((c) => cells.has(`${b.builderid}:${c}`)),
          );
          if (requests.data && columns.length === 0) {
            return (
              <EmptyState title="Nothing has been built yet.">
                Forced builds and changes will appear here.
              </EmptyState>
            );
          }
          return (
            <div className="grid-scroll">
              <table className="grid">
                <thead>
                  <tr>
                    <th className="grid-corner">Builder</th>
                    {columns.map((bsid) => {
                      const bs = sets.get(bsid);
                      const ss = bs?.sourcestamps[0];
                      return (
                        <th
                          key={bsid}
                          className="grid-col"
                          title={bs?.reason ?? `buildset ${bsid}`}
                        >
                          <span className="grid-col-id">{bsid}</span>
                          <span className="grid-col-rev mono">
                            {ss?.revision ? ss.revision.slice(0, 7) : (ss?.branch ?? '')}
                          </span>
                        </th>
                      );
                    })}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((b) => (
                    <tr key={b.builderid}>
                      <th className="grid-row">
                        <Link to={paths.builder(b.builderid)}>{b.name}</Link>
                      </th>
                      {columns.map((bsid) => {
                        const cell = cells.get(`${b.builderid}:${bsid}`);
                        if (!cell) return <td key={bsid} className="grid-empty" />;
                        return (
                          <td key={bsid}>
                            {cell.build ? (
                              <BuildChip
                                to={paths.build(b.builderid, cell.build.number)}
                                status={cell.status}
                                label={String(cell.build.number)}
                                title={`${b.name} #${cell.build.number}: ${statusLabel(cell.status)}`}
                              />
                            ) : (
                              <BuildChip
                                to={paths.buildRequest(cell.request.buildrequestid)}
                                status={cell.status}
                                label="…"
                                title={`request ${cell.request.buildrequestid}: ${statusLabel(cell.status)}`}
                              />
                            )}
                          </td>
                        );
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Async>
    </div>
  );
}

/** Builders × their latest builds, newest first (the recent history of every builder). */
function LatestBuilds({ builders, builds }: { builders: Builder[]; builds: Build[] }) {
  const perBuilder = new Map<number, Build[]>();
  for (const b of builds) {
    const list = perBuilder.get(b.builderid) ?? [];
    if (list.length < COLUMNS) list.push(b);
    perBuilder.set(b.builderid, list);
  }
  const rows = builders.filter((b) => perBuilder.has(b.builderid));
  if (rows.length === 0) return <EmptyState title="Nothing has been built yet." />;
  return (
    <div className="grid-scroll">
      <table className="grid">
        <tbody>
          {rows.map((b) => (
            <tr key={b.builderid}>
              <th className="grid-row">
                <Link to={paths.builder(b.builderid)}>{b.name}</Link>
              </th>
              {(perBuilder.get(b.builderid) ?? []).map((build) => {
                const status = statusOf(build);
                return (
                  <td key={build.buildid}>
                    <BuildChip
                      to={paths.build(b.builderid, build.number)}
                      status={status}
                      label={String(build.number)}
                      title={`${b.name} #${build.number}: ${statusLabel(status)}`}
                    />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
