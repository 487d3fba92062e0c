/**
 * A build request: where the force form and rebuild land. While it waits it says so (and
 * for how long, with cancel); as soon as a build starts for it, the page becomes that build's
 * page (replacing this history entry, so Back returns to where the user forced it).
 */
import { useEffect } from 'react';
import { useBuilders } from '../api/hooks.js';
import { useApi } from '../api/store.js';
import type { Build, BuildRequest, Collection } from '../api/types.js';
import {
  ActionButton,
  Async,
  Duration,
  EmptyState,
  StatusBadge,
  useReadyMark,
  useTitle,
} from '../components/common.js';
import { elapsed } from '../lib/format.js';
import { resultStatus } from '../lib/results.js';
import { useNow } from '../lib/use-now.js';
import { paths } from '../paths.js';
import { Link, navigate } from '../router.js';
import { cancelRequest } from './builder.js';

export function BuildRequestPage({ id }: { id: string }) {
  useTitle(`Request ${id}`);
  const now = useNow();
  const request = useApi<Collection<'buildrequests', BuildRequest>>(
    `/buildrequests/${encodeURIComponent(id)}`,
    {
      live: [`buildrequests/${id}/*`],
    },
  );
  const builds = useApi<Collection<'builds', Build>>(
    `/buildrequests/${encodeURIComponent(id)}/builds`,
    {
      live: ['builds/*/new'],
    },
  );
  const builders = useBuilders();
  const latest = builds.data?.builds[builds.data.builds.length - 1];
  useEffect(() => {
    if (latest) navigate(paths.build(latest.builderid, latest.number), { replace: true });
  }, [latest]);
  useReadyMark(request.data !== undefined, 'buildrequest');

  return (
    <div className="page page-buildrequest">
      <Async query={request} what="build request">
        {(data) => {
          const r = data.buildrequests[0];
          if (!r) return <EmptyState title="No such build request." />;
          const builder = builders.data?.builders.find((b) => b.builderid === r.builderid);
          return (
            <>
              <nav className="crumbs">
                <Link to={paths.builders()}>Builders</Link> ›{' '}
                <Link to={paths.builder(r.builderid)}>
                  {builder?.name ?? `builder ${r.builderid}`}
                </Link>{' '}
                ›
              </nav>
              <h1 className="page-title">Build request {r.buildrequestid}</h1>
              {r.complete ? (
                <div className="waiting">
                  <StatusBadge status={resultStatus(r.results)} /> This request is complete
                  {builds.data &&
                    builds.data.builds.length === 0 &&
                    ' without a build (it was cancelled or merged)'}
                  .
                </div>
              ) : (
                <div className="waiting" data-testid="request-waiting">
                  <span className="spinner" aria-hidden="true" />
                  <div>
                    <strong>{r.claimed ? 'Starting…' : 'Waiting for a worker.'}</strong>
                    <div className="muted">
                      Queued for <Duration seconds={elapsed(r.submitted_at, null, now)} />. This
                      page turns into the build as soon as it starts.
                    </div>
                  </div>
                  {!r.claimed && (
                    <ActionButton onAction={() => cancelRequest(r.buildrequestid)} kind="danger">
                      Cancel request
                    </ActionButton>
                  )}
                </div>
              )}
            </>
          );
        }}
      </Async>
    </div>
  );
}
