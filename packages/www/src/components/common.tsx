/** Small building blocks every page uses: status badges, times, loading/empty/error states. */
import { useEffect, useState, type ReactNode } from 'react';
import type { ApiError } from '../api/client.js';
import type { QuerySnapshot } from '../api/store.js';
import { elapsed, formatAgo, formatDuration, formatTime } from '../lib/format.js';
import { statusClass, statusLabel, type Status } from '../lib/results.js';
import { useNow } from '../lib/use-now.js';
import { Link } from '../router.js';

export function StatusBadge({
  status,
  label,
  title,
}: {
  status: Status;
  label?: string;
  title?: string;
}) {
  return (
    <span
      className={`badge ${statusClass(status)}`}
      title={title ?? statusLabel(status)}
      data-status={status}
    >
      {label ?? statusLabel(status)}
    </span>
  );
}

/** A small coloured square for one build, linking to it (builders list, grid). */
export function BuildChip({
  to,
  status,
  label,
  title,
}: {
  to: string;
  status: Status;
  label: string;
  title: string;
}) {
  return (
    <Link to={to} className={`chip ${statusClass(status)}`} title={title} data-status={status}>
      {label}
    </Link>
  );
}

/** Live elapsed time of something that may still run. */
export function Elapsed({ start, end }: { start: number | null; end: number | null }) {
  const now = useNow();
  const seconds = elapsed(start, end, now);
  return <span className="num">{seconds === null ? '—' : formatDuration(seconds)}</span>;
}

/** "5m ago", with the exact time on hover; ticks. */
export function Ago({ time }: { time: number | null }) {
  const now = useNow();
  return (
    <time className="ago" title={formatTime(time)}>
      {formatAgo(time, now)}
    </time>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function ErrorState({
  error,
  what,
  onRetry,
}: {
  error: ApiError;
  what: string;
  onRetry?: () => void;
}) {
  const notFound = error.status === 404;
  return (
    <div className="state state-error" role="alert">
      <strong>{notFound ? `No such ${what}.` : `Could not load ${what}.`}</strong>
      <p>{error.message}</p>
      {onRetry && !notFound && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
      {notFound && (
        <p>
          <Link to="/">Back to the home page</Link>
        </p>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <div className="state-hint">{children}</div>}
    </div>
  );
}

/**
 * Draws a query: a spinner before the first answer, the error if there is no data, and the
 * content otherwise (with a note when a refresh failed and the data may be old).
 */
export function Async<T>({
  query,
  what,
  children,
}: {
  query: QuerySnapshot<T> & { reload: () => void };
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (query.data === undefined) {
    if (query.error) return <ErrorState error={query.error} what={what} onRetry={query.reload} />;
    return <Loading what={what} />;
  }
  return (
    <>
      {query.error && (
        <div className="stale-note" role="status">
          Showing older data: {query.error.message}
        </div>
      )}
      {children(query.data)}
    </>
  );
}

/** Sets the tab title while a page is shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Yardmaster` : 'Yardmaster';
  }, [title]);
}

/**
 * Marks the page as drawn with its data, once: `performance.mark('yardmaster:ready')` (the
 * UI benchmark reads it) and `data-ready` on the page element (tests wait for it).
 */
export function useReadyMark(ready: boolean, page: string): void {
  useEffect(() => {
    if (!ready) return;
    const root = document.getElementById('root');
    if (root?.dataset.ready === page) return;
    if (root) root.dataset.ready = page;
    performance.mark('yardmaster:ready', { detail: { page } });
  }, [ready, page]);
}

export function Section({
  title,
  count,
  actions,
  children,
  id,
}: {
  title: string;
  count?: number;
  actions?: ReactNode;
  children: ReactNode;
  id?: string;
}) {
  return (
    <section className="section" id={id} aria-label={title}>
      <header className="section-header">
        <h2>
          {title}
          {count !== undefined && <span className="count">{count}</span>}
        </h2>
        {actions && <div className="section-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/**
 * A button for a server action: disabled while it runs, shows the server's refusal. An
 * optional `confirm` asks first.
 */
export function ActionButton({
  onAction,
  children,
  confirm,
  kind = 'default',
  title,
  testId,
}: {
  onAction: () => Promise<unknown>;
  children: ReactNode;
  confirm?: string;
  kind?: 'default' | 'danger' | 'primary';
  title?: string;
  testId?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="action">
      <button
        type="button"
        className={`button button-${kind}`}
        disabled={busy}
        title={title}
        data-testid={testId}
        onClick={() => {
          if (confirm && !window.confirm(confirm)) return;
          setBusy(true);
          setError(null);
          onAction().then(
            () => setBusy(false),
            (e: unknown) => {
              setBusy(false);
              setError(e instanceof Error ? e.message : String(e));
            },
          );
        }}
      >
        {busy ? '…' : children}
      </button>
      {error && (
        <span className="action-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** `12` / `3 of 40` style counts in headers. */
export function Pager({
  page,
  pageSize,
  total,
  onPage,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  const first = page * pageSize + 1;
  const last = Math.min(total, (page + 1) * pageSize);
  return (
    <nav className="pager" aria-label="pages">
      <button type="button" disabled={page === 0} onClick={() => onPage(0)}>
        « Newest
      </button>
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>
        ‹ Newer
      </button>
      <span className="pager-info">
        {first}–{last} of {total}
      </span>
      <button type="button" disabled={page >= pages - 1} onClick={() => onPage(page + 1)}>
        Older ›
      </button>
      <button type="button" disabled={page >= pages - 1} onClick={() => onPage(pages - 1)}>
        Oldest »
      </button>
    </nav>
  );
}

export function Duration({ seconds }: { seconds: number | null }) {
  return <span className="num">{seconds === null ? '—' : formatDuration(seconds)}</span>;
}
