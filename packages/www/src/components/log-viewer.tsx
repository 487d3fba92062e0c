/**
 * The log view: a virtualized list of lines that stays fast on a 20 MB log.
 *
 * Owns: the log's line count (from the log entity, then its `logs/<id>/append` events or,
 * without live events, a re-read on each poll tick), a cache of pages of `PAGE_LINES` lines
 * read with `/logs/<id>/contents?offset=&limit=`, the scroll position, and whether it
 * follows the end.
 *
 * Only the lines in view (plus a margin) are in the DOM, and only their pages are fetched:
 * opening a huge log reads one page; "Jump to end" reads the last one. The page nearest the
 * end may be partial while the step runs: it is completed by reading just the missing
 * lines. Pages far from the view are dropped past `MAX_PAGES`. Lines have one fixed height
 * (no wrapping), which is what makes positions computable; a log taller than a browser can
 * draw is scrolled in proportion (see firstVisibleLine).
 *
 * Follow mode (on while a step runs and the view is at the end): new lines scroll into view
 * as they arrive. Scrolling up leaves it; scrolling back to the end, or "Jump to end",
 * resumes it.
 */
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useReducer,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { getJson } from '../api/client.js';
import { liveEvents } from '../api/live.js';
import type { Collection, Log, LogChunk } from '../api/types.js';
import { parseAnsi, presentStyle } from '../lib/ansi.js';
import { firstVisibleLine, pagesFor, splitLogContent, type LogLine } from '../lib/log-lines.js';
import { rawLogUrl } from '../paths.js';

export const LINE_HEIGHT = 18;
export const PAGE_LINES = 500;
const OVERSCAN = 40;
const MAX_PAGES = 200;
/** Below Chromium's limit on an element's height (~33.5 million px). */
const MAX_SCROLL_PX = 15_000_000;
const FETCH_DELAY_MS = 40;

interface Page {
  lines: LogLine[];
  loading: boolean;
  error: string | null;
}

function renderText(text: string): ReactNode {
  const { segments } = parseAnsi(text);
  if (segments.length === 0) return '\u200b';
  return segments.map((segment, i) => {
    if (!segment.style) return segment.text;
    const look = presentStyle(segment.style);
    return (
      <span
        key={i}
        className={look.className || undefined}
        style={
          look.color || look.backgroundColor
            ? { color: look.color, backgroundColor: look.backgroundColor }
            : undefined
        }
      >
        {segment.text}
      </span>
    );
  });
}

const STREAM_CLASS = { o: 'log-stdout', e: 'log-stderr', h: 'log-header' } as const;

export function LogViewer({
  log: initial,
  fill = false,
  startAtEnd,
}: {
  log: Log;
  /** Take the window's remaining height (the full-page view) instead of a fixed box. */
  fill?: boolean;
  /** Open at the end; default: while the log is still being written. */
  startAtEnd?: boolean;
}) {
  const logid = initial.logid;
  const [meta, setMeta] = useState({ numLines: initial.num_lines, complete: initial.complete });
  const [follow, setFollow] = useState(startAtEnd ?? !initial.complete);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(fill ? 600 : 420);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const pages = useRef(new Map<number, Page>());
  const scroller = useRef<HTMLDivElement>(null);
  const frame = useRef<number | null>(null);

  // Line count: the log entity, kept current by live events (or poll ticks).
  useEffect(() => {
    let alive = true;
    const reread = () => {
      getJson<Collection<'logs', Log>>(`/logs/${logid}`).then(
        (data) => {
          const log = data.logs[0];
          if (alive && log)
            setMeta((m) => ({
              numLines: Math.max(m.numLines, log.num_lines),
              complete: log.complete,
            }));
        },
        () => undefined,
      );
    };
    // The entity we were given is fresh; re-read it only when told something may have changed.
    const unsubscribe = liveEvents().subscribe(`logs/${logid}/*`, (key, message) => {
      const log = message as Partial<Log> | null;
      if (key !== null && log && typeof log.num_lines === 'number') {
        const numLines = log.num_lines;
        setMeta((m) => ({
          numLines: Math.max(m.numLines, numLines),
          complete: m.complete || log.complete === true || key[2] === 'finished',
        }));
      } else reread();
    });
    return () => {
      alive = false;
      unsubscribe();
    };
  }, [logid]);

  const { numLines } = meta;
  const scaled = numLines * LINE_HEIGHT > MAX_SCROLL_PX;
  const spacer = Math.min(numLines * LINE_HEIGHT, MAX_SCROLL_PX);
  const first = firstVisibleLine(scrollTop, viewport, numLines, LINE_HEIGHT, MAX_SCROLL_PX);
  const visible = Math.ceil(viewport / LINE_HEIGHT) + 1;
  const start = Math.max(0, first - OVERSCAN);
  const end = Math.min(numLines, first + visible + OVERSCAN);

  // Fetch the pages the view needs, shortly after the view settles (a dragged scroll bar
  // crosses thousands of lines; only where it stops matters).
  useEffect(() => {
    const timer = setTimeout(() => {
      const cache = pages.current;
      for (const p of pagesFor(start, end - 1, numLines, PAGE_LINES)) {
        const have = cache.get(p);
        const need = Math.min(PAGE_LINES, numLines - p * PAGE_LINES);
        if (have && (have.loading || have.lines.length >= need)) continue;
        const page: Page = have ?? { lines: [], loading: false, error: null };
        page.loading = true;
        cache.set(p, page);
        const offset = p * PAGE_LINES + page.lines.length;
        getJson<Collection<'logchunks', LogChunk>>(
          `/logs/${logid}/contents?offset=${offset}&limit=${need - page.lines.length}`,
        ).then(
          (data) => {
            const chunk = data.logchunks[0];
            page.loading = false;
            page.error = null;
            if (chunk && chunk.firstline === p * PAGE_LINES + page.lines.length) {
              page.lines = page.lines.concat(splitLogContent(chunk.content, initial.type));
            }
            redraw();
          },
          (error: unknown) => {
            page.loading = false;
            page.error = error instanceof Error ? error.message : String(error);
            redraw();
          },
        );
      }
      // Forget pages far from the view.
      if (cache.size > MAX_PAGES) {
        const here = Math.floor(first / PAGE_LINES);
        const far = [...cache.keys()]
          .filter((p) => !cache.get(p)?.loading)
          .sort((a, b) => Math.abs(b - here) - Math.abs(a - here));
        for (const p of far.slice(0, cache.size - MAX_PAGES)) cache.delete(p);
      }
    }, FETCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [start, end, numLines, logid, first, initial.type]);

  // Follow: keep the end in view as lines arrive.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !follow) return;
    const bottom = el.scrollHeight - el.clientHeight;
    if (Math.abs(el.scrollTop - bottom) > 1) {
      el.scrollTop = bottom;
      setScrollTop(el.scrollTop);
    }
  }, [follow, spacer, viewport]);

  // Viewport size.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    setViewport(el.clientHeight);
    const observer = new ResizeObserver(() => setViewport(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    if (frame.current === null) {
      frame.current = requestAnimationFrame(() => {
        frame.current = null;
        setScrollTop(el.scrollTop);
      });
    }
    // At the end of a log still being written: follow it; anywhere else: stay put.
    const atEnd = el.scrollTop >= el.scrollHeight - el.clientHeight - LINE_HEIGHT;
    if (!atEnd) setFollow(false);
    else if (!meta.complete) setFollow(true);
  }, [meta.complete]);

  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  const jump = (where: 'start' | 'end') => {
    const el = scroller.current;
    if (!el) return;
    if (where === 'start') {
      setFollow(false);
      el.scrollTop = 0;
    } else {
      setFollow(true);
      el.scrollTop = el.scrollHeight;
    }
    setScrollTop(el.scrollTop);
  };

  const rows: ReactNode[] = [];
  const gutter = String(Math.max(numLines, 1)).length;
  for (let i = start; i < end; i++) {
    const page = pages.current.get(Math.floor(i / PAGE_LINES));
    const line = page?.lines[i % PAGE_LINES];
    rows.push(
      <div
        key={i}
        className={`log-line ${line ? STREAM_CLASS[line.stream] : 'log-pending'}`}
        data-line={i + 1}
      >
        <span className="log-number" style={{ width: `${gutter + 1}ch` }}>
          {i + 1}
        </span>
        <span className="log-text">
          {line ? renderText(line.text) : page?.error ? `(could not load: ${page.error})` : '…'}
        </span>
      </div>,
    );
  }
  const offsetPx = scaled ? scrollTop + (start - first) * LINE_HEIGHT : start * LINE_HEIGHT;

  return (
    <div
      className={`log-viewer ${fill ? 'log-fill' : ''}`}
      data-testid="log-viewer"
      data-logid={logid}
    >
      <div className="log-toolbar">
        <span className="log-info" data-testid="log-lines">
          {numLines.toLocaleString('en')} {numLines === 1 ? 'line' : 'lines'}
          {!meta.complete && (
            <span className="log-live" title="the step is still writing this log">
              {' '}
              · <span className="pulse" aria-hidden="true" /> {follow ? 'following' : 'live'}
            </span>
          )}
        </span>
        <span className="log-buttons">
          <button type="button" onClick={() => jump('start')} disabled={numLines === 0}>
            ⤒ Top
          </button>
          <button
            type="button"
            onClick={() => jump('end')}
            disabled={numLines === 0}
            data-testid="log-jump-end"
          >
            ⤓ {meta.complete ? 'Jump to end' : 'Follow'}
          </button>
          <a className="button" href={rawLogUrl(logid)} download>
            Download raw
          </a>
        </span>
      </div>
      <div
        className="log-scroll"
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        aria-label={`log ${initial.name}`}
      >
        {numLines === 0 ? (
          <div className="log-empty">
            {meta.complete ? 'This log is empty.' : 'Waiting for output…'}
          </div>
        ) : (
          <div className="log-spacer" style={{ height: spacer }}>
            <div className="log-window" style={{ transform: `translateY(${offsetPx}px)` }}>
              {rows}
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
