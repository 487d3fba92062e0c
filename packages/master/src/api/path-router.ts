/**
 * Matches Data API paths against Buildbot-style patterns with typed segments:
 *   literal          must be equal
 *   n:name           a number (`/builds/12`); anything else does not match
 *   k:name           a number or a name (`/builders/3` or `/builders/noop`)
 * Segments are URL-decoded. A path that matches no pattern is Buildbot's "Invalid path".
 * Built once at start-up; matching is a scan of the patterns with the same segment count.
 */

type Segment = { kind: 'literal'; text: string } | { kind: 'number' | 'key'; name: string };

export type PathParams = Record<string, string | number>;

interface Route<H> {
  segments: Segment[];
  handler: H;
}

function parsePattern(pattern: string): Segment[] {
  return pattern
    .split('/')
    .filter((part) => part !== '')
    .map((part): Segment => {
      if (part.startsWith('n:')) return { kind: 'number', name: part.slice(2) };
      if (part.startsWith('k:')) return { kind: 'key', name: part.slice(2) };
      return { kind: 'literal', text: part };
    });
}

const NUMBER = /^\d{1,15}$/;

export class PathRouter<H> {
  private readonly byLength = new Map<number, Route<H>[]>();

  add(pattern: string, handler: H): void {
    const segments = parsePattern(pattern);
    let routes = this.byLength.get(segments.length);
    if (!routes) this.byLength.set(segments.length, (routes = []));
    routes.push({ segments, handler });
  }

  /** `parts` are the path's segments, already decoded. */
  match(parts: readonly string[]): { handler: H; params: PathParams } | undefined {
    for (const route of this.byLength.get(parts.length) ?? []) {
      const params: PathParams = {};
      let ok = true;
      for (let i = 0; ok && i < parts.length; i++) {
        const segment = route.segments[i];
        const part = parts[i] ?? '';
        if (!segment) ok = false;
        else if (segment.kind === 'literal') ok = segment.text === part;
        else if (segment.kind === 'number') {
          ok = NUMBER.test(part);
          params[segment.name] = Number(part);
        } else {
          ok = part !== '';
          params[segment.name] = NUMBER.test(part) ? Number(part) : part;
        }
      }
      if (ok) return { handler: route.handler, params };
    }
    return undefined;
  }
}

/** Splits a URL path (no query) into decoded segments; undefined if it cannot be decoded. */
export function splitPath(path: string): string[] | undefined {
  if (path === '') return [];
  try {
    return path.split('/').map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
}
