/**
 * A small history-API router: real paths (`/builders/3/builds/12`) as deep links, the back
 * and forward buttons through `popstate`, and links that navigate without reloading. The
 * master answers every unknown non-API path with index.html, so any deep link loads the UI.
 * Buildbot-style hash links (`/#/builders/3`) are rewritten to paths on load.
 */
import {
  useSyncExternalStore,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from 'react';

export interface Location {
  pathname: string;
  search: string;
}

const listeners = new Set<() => void>();
let current: Location = readLocation();

function readLocation(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

function update(): void {
  const next = readLocation();
  if (next.pathname === current.pathname && next.search === current.search) return;
  current = next;
  for (const l of [...listeners]) l();
}

window.addEventListener('popstate', update);

// Buildbot's UI used hash routes; keep its links working.
if (window.location.hash.startsWith('#/')) {
  window.history.replaceState(null, '', window.location.hash.slice(1));
  current = readLocation();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useLocation(): Location {
  return useSyncExternalStore(subscribe, () => current);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const sameTarget = to === `${current.pathname}${current.search}`;
  if (options.replace || sameTarget) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  const pathChanged = window.location.pathname !== current.pathname;
  update();
  if (pathChanged && !options.replace) window.scrollTo(0, 0);
}

/** The current query parameters. */
export function useSearchParams(): URLSearchParams {
  const { search } = useLocation();
  return new URLSearchParams(search);
}

/** Changes query parameters (null removes one), replacing the history entry by default. */
export function setSearchParams(
  changes: Record<string, string | number | null>,
  options: { push?: boolean } = {},
): void {
  const params = new URLSearchParams(current.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') params.delete(k);
    else params.set(k, String(v));
  }
  const search = params.toString();
  navigate(`${current.pathname}${search ? `?${search}` : ''}`, { replace: !options.push });
}

/** Replaces the whole query string (for repeated parameters such as `tag`). */
export function replaceSearch(params: URLSearchParams): void {
  const search = params.toString();
  navigate(`${current.pathname}${search ? `?${search}` : ''}`, { replace: true });
}

/** Matches `/builders/:builderid/builds/:number` against a path; the params, or null. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = pathname.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const h = have[i] ?? '';
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return null;
      }
    } else if (w !== h) return null;
  }
  return params;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & {
  to: string;
  children?: ReactNode;
};

function isPlainClick(event: MouseEvent<HTMLAnchorElement>): boolean {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

/** An `<a>` that navigates inside the UI (and still opens in a new tab with a modifier). */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  return (
    <a
      href={to}
      onClick={(event) => {
        onClick?.(event);
        if (event.defaultPrevented || !isPlainClick(event) || rest.target === '_blank') return;
        event.preventDefault();
        navigate(to);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}
