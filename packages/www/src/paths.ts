/** The UI's own URLs (deep links), in one place. */
export const paths = {
  home: () => '/',
  builders: () => '/builders',
  builder: (builderid: number | string) => `/builders/${builderid}`,
  build: (builderid: number | string, number: number | string) =>
    `/builders/${builderid}/builds/${number}`,
  log: (builderid: number | string, number: number | string, step: number | string, slug: string) =>
    `/builders/${builderid}/builds/${number}/steps/${step}/logs/${encodeURIComponent(slug)}`,
  buildRequest: (id: number) => `/buildrequests/${id}`,
  workers: () => '/workers',
  grid: () => '/grid',
  masters: () => '/masters',
} as const;

/** The raw download of a log, from the REST API. */
export function rawLogUrl(logid: number): string {
  return `/api/v2/logs/${logid}/raw`;
}
