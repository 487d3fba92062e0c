/** The frame of every page (navigation, live status) and the routes. */
import { useSyncExternalStore, type ReactNode } from 'react';
import { liveEvents, type LiveMode } from './api/live.js';
import { EmptyState, useTitle } from './components/common.js';
import { BuildPage, LogPage } from './pages/build.js';
import { BuildRequestPage } from './pages/build-request.js';
import { BuilderPage } from './pages/builder.js';
import { BuildersPage } from './pages/builders.js';
import { GridPage } from './pages/grid.js';
import { HomePage } from './pages/home.js';
import { MastersPage } from './pages/masters.js';
import { WorkersPage } from './pages/workers.js';
import { paths } from './paths.js';
import { Link, matchPath, useLocation } from './router.js';

type Route = [pattern: string, render: (params: Record<string, string>) => ReactNode];

const ROUTES: Route[] = [
  ['/', () => <HomePage />],
  ['/builders', () => <BuildersPage />],
  ['/builders/:builderid', (p) => <BuilderPage key={p.builderid} builderid={p.builderid ?? ''} />],
  [
    '/builders/:builderid/builds/:number',
    (p) => (
      <BuildPage
        key={`${p.builderid}/${p.number}`}
        builderid={p.builderid ?? ''}
        number={p.number ?? ''}
      />
    ),
  ],
  [
    '/builders/:builderid/builds/:number/steps/:step/logs/:slug',
    (p) => (
      <LogPage
        key={`${p.builderid}/${p.number}/${p.step}/${p.slug}`}
        builderid={p.builderid ?? ''}
        number={p.number ?? ''}
        step={p.step ?? ''}
        slug={p.slug ?? ''}
      />
    ),
  ],
  ['/buildrequests/:id', (p) => <BuildRequestPage key={p.id} id={p.id ?? ''} />],
  ['/workers', () => <WorkersPage />],
  ['/grid', () => <GridPage />],
  ['/masters', () => <MastersPage />],
];

const NAV: [string, string][] = [
  [paths.home(), 'Home'],
  [paths.builders(), 'Builders'],
  [paths.grid(), 'Grid'],
  [paths.workers(), 'Workers'],
  [paths.masters(), 'Masters'],
];

const LIVE_TEXT: Record<LiveMode, [string, string]> = {
  connecting: ['connecting', 'Connecting to the live event stream…'],
  live: ['live', 'Pages update as things happen (WebSocket /ws).'],
  reconnecting: [
    'reconnecting',
    'The live connection dropped; refreshing every few seconds while it reconnects.',
  ],
  polling: ['polling', 'This master has no live events; pages refresh every few seconds.'],
};

function LiveStatus() {
  const live = liveEvents();
  const mode = useSyncExternalStore(
    (l) => live.onModeChange(l),
    () => live.mode,
  );
  const [text, title] = LIVE_TEXT[mode];
  return (
    <span className={`live live-${mode}`} title={title} data-testid="live-status">
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function NotFound({ pathname }: { pathname: string }) {
  useTitle('Not found');
  return (
    <div className="page">
      <EmptyState title={`Nothing lives at ${pathname}.`}>
        <Link to={paths.home()}>Go to the home page</Link>
      </EmptyState>
    </div>
  );
}

export function App() {
  const { pathname } = useLocation();
  let page: ReactNode = null;
  for (const [pattern, render] of ROUTES) {
    const params = matchPath(pattern, pathname);
    if (params) {
      page = render(params);
      break;
    }
  }
  const section =
    NAV.slice(1).find(([to]) => pathname.startsWith(to))?.[0] ?? (pathname === '/' ? '/' : null);
  return (
    <>
      <header className="topbar">
        <Link to={paths.home()} className="brand">
          <svg className="brand-mark" viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
            <rect x="3" y="6" width="8" height="8" rx="1.5" fill="#5cb85c" />
            <rect x="12" y="6" width="8" height="8" rx="1.5" fill="#5cb85c" />
            <rect x="21" y="6" width="8" height="8" rx="1.5" fill="#e05252" />
            <rect x="3" y="17" width="8" height="8" rx="1.5" fill="#5cb85c" />
            <rect x="12" y="17" width="8" height="8" rx="1.5" fill="#f4d03f" />
            <rect x="21" y="17" width="8" height="8" rx="1.5" fill="#5cb85c" />
          </svg>
          Yardmaster
        </Link>
        <nav className="nav" aria-label="main">
          {NAV.map(([to, label]) => (
            <Link
              key={to}
              to={to}
              className={section === to ? 'nav-on' : undefined}
              aria-current={section === to ? 'page' : undefined}
            >
              {label}
            </Link>
          ))}
        </nav>
        <LiveStatus />
      </header>
      <main className="main">{page ?? <NotFound pathname={pathname} />}</main>
    </>
  );
}
