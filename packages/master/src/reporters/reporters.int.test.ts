/**
 * The status reporters against a local HTTP server that plays GitHub, GitLab and a plain
 * status receiver: what each sends when a real build starts and ends, retries after 5xx
 * answers, no retry after a 4xx, builder filters, and that the token (a secret from the
 * files provider) is sent but never appears in anything the master logs.
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, trackServer, waitFor } from '@yardmaster/testkit';
import {
  buildFactory,
  builder,
  gitHubStatusPush,
  gitLabStatusPush,
  httpStatusPush,
  interpolate,
  shellCommand,
  worker,
} from '../config/factories.js';
import { Results } from '../results.js';
import { startBuildFixture, type BuildFixture } from '../../test/build-fixture.js';

const TOKEN = 'ghp_secretvalue42';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | null;
}

const received: Received[] = [];
/** Answers still to give for a path prefix (then 201). */
const scripted = new Map<string, number[]>();
let server: http.Server;
let base = '';
let fixture: BuildFixture;
const logLines: string[] = [];

function requestsTo(prefix: string): Received[] {
  return received.filter((r) => r.url.startsWith(prefix));
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '';
      received.push({
        method: req.method ?? '',
        url,
        headers: req.headers,
        body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
      });
      if (req.method === 'GET' && url.startsWith('/gitlab/api/v4/projects/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 42 }));
        return;
      }
      const prefix = [...scripted.keys()].find((p) => url.startsWith(p));
      const status = prefix === undefined ? 201 : (scripted.get(prefix)?.shift() ?? 201);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status }));
    });
  });
  trackServer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // Each GitHub status fails twice with 502 before it is accepted.
  scripted.set('/github/repos/acme/app/statuses/', [502, 502, 201, 502, 502, 201]);
  scripted.set('/refused', [400, 400, 400, 400]);

  const secrets = await makeTempDir('ym-reporter-secrets-');
  writeFileSync(path.join(secrets, 'forge_token'), `${TOKEN}\n`);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const retry = { retries: 3, retryDelay: '20ms' };
  fixture = await startBuildFixture(
    {
      workers: [worker('w1', { password: 'pw1' })],
      builders: [
        builder({
          name: 'app',
          workerNames: ['w1'],
          factory: buildFactory([shellCommand({ command: 'echo building' })]),
        }),
        builder({
          name: 'broken',
          workerNames: ['w1'],
          factory: buildFactory([shellCommand({ command: 'exit 1' })]),
        }),
      ],
      secrets: { provider: 'files', dir: secrets },
      buildbotURL: 'https://ci.example.com',
      reporters: [
        gitHubStatusPush({
          token: interpolate('%(secret:forge_token)s'),
          baseURL: `${base}/github`,
          builders: ['app'],
          ...retry,
        }),
        gitLabStatusPush({
          token: interpolate('%(secret:forge_token)s'),
          baseURL: `${base}/gitlab`,
          context: interpolate('ci/%(prop:buildername)s'),
          ...retry,
        }),
        httpStatusPush({
          serverUrl: `${base}/hook`,
          headers: { 'X-Token': interpolate('%(secret:forge_token)s') },
          wantSteps: true,
          ...retry,
        }),
        httpStatusPush({ serverUrl: `${base}/refused`, ...retry }),
      ],
    },
    { logger: pino({ level: 'debug' }, sink) },
  );
  fixture.startWorker('w1', 'pw1');
});

afterAll(async () => {
  await fixture.stop();
  await new Promise((resolve) => server.close(resolve));
});

const stamp = {
  repository: 'https://github.com/acme/app.git',
  branch: 'main',
  revision: 'abc123def',
};

describe('status reporters', () => {
  it('report a build when it starts and when it ends, to each forge in its own terms', async () => {
    const [app, broken] = await fixture.submit(['app', 'broken'], { sourcestamp: stamp });
    const good = await fixture.buildOf(app ?? 0);
    const bad = await fixture.buildOf(broken ?? 0);
    expect(good.results).toBe(Results.SUCCESS);
    expect(bad.results).toBe(Results.FAILURE);
    await waitFor(
      () =>
        requestsTo('/github/').length === 6 &&
        requestsTo('/gitlab/api/v4/projects/42/').length === 4 &&
        requestsTo('/hook').length === 4 &&
        requestsTo('/refused').length === 4,
      { timeoutMs: 20_000, message: 'every report' },
    );

    // GitHub: only builder "app"; pending then success, each after two 502s.
    const github = requestsTo('/github/');
    expect(github.map((r) => r.url)).toEqual(
      Array(6).fill('/github/repos/acme/app/statuses/abc123def'),
    );
    expect(github.map((r) => r.body?.state)).toEqual([
      'pending',
      'pending',
      'pending',
      'success',
      'success',
      'success',
    ]);
    expect(github[0]?.headers.authorization).toBe(`token ${TOKEN}`);
    expect(github[5]?.body).toEqual({
      state: 'success',
      target_url: `https://ci.example.com/builders/${good.builderid}/builds/${good.number}`,
      description: 'Build done.',
      context: 'buildbot/app',
    });

    // GitLab: the project id once, then running / success and running / failed.
    expect(requestsTo('/gitlab/api/v4/projects/acme%2Fapp')).toHaveLength(1);
    const gitlab = requestsTo('/gitlab/api/v4/projects/42/statuses/abc123def');
    expect(gitlab[0]?.headers['private-token']).toBe(TOKEN);
    const byContext = (name: string) =>
      gitlab.filter((r) => r.body?.name === name).map((r) => r.body?.state);
    expect(byContext('ci/app')).toEqual(['running', 'success']);
    expect(byContext('ci/broken')).toEqual(['running', 'failed']);
    expect(gitlab[0]?.body).toMatchObject({ ref: 'main', description: 'Build started.' });

    // HTTP push: the build as the data API shows it, with builder, source stamps, steps.
    const hook = requestsTo('/hook');
    expect(hook[0]?.headers['x-token']).toBe(TOKEN);
    const finished = hook.find((r) => r.body?.buildid === good.buildid && r.body.complete);
    expect(finished?.body).toMatchObject({
      buildid: good.buildid,
      number: good.number,
      results: Results.SUCCESS,
      builder: { name: 'app', builderid: good.builderid },
      buildset: { sourcestamps: [expect.objectContaining({ revision: 'abc123def' })] },
      url: `https://ci.example.com/builders/${good.builderid}/builds/${good.number}`,
    });
    expect(finished?.body?.properties).toMatchObject({ buildername: ['app', 'Builder'] });
    expect((finished?.body?.steps as { name: string }[]).map((s) => s.name)).toEqual([
      'worker_preparation',
      'echo',
    ]);
  });

  it('a 4xx is final (no retry) and logged; the token never reaches the logs', async () => {
    await waitFor(() => logLines.some((line) => line.includes('/refused: HTTP 400')), {
      message: 'the refused report logged',
    });
    // Two builds, two events each, one attempt per event.
    expect(requestsTo('/refused')).toHaveLength(4);
    const everything = logLines.join('');
    expect(everything).not.toContain(TOKEN);
    expect(everything).toContain('reporting build');
  });
});
