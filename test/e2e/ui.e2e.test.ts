/**
 * The web UI end to end: a real master process serving the built UI, our real worker, and
 * Debian's Chromium driven by playwright-core. A person's daily work: force a build from the
 * form and watch its log stream in, stop a running build from its page, watch a worker go
 * from idle to busy and back, get the server's refusal of a bad force value. Screenshots of
 * every main page go to test-artifacts/ui/ (look at them).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type SpawnedProcess } from '@yardmaster/testkit';
import {
  startMaster,
  startWorker,
  waitForBuild,
  waitForConnected,
  type RunningMaster,
} from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'test-artifacts/ui');
const CHROMIUM = process.env.YARDMASTER_CHROMIUM ?? '/usr/bin/chromium';
const WAIT = { timeout: 30_000 };

const CONFIG = `
import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';

export default defineConfig({
  title: 'ui e2e',
  workers: [worker('w1', { password: 'pw-1', maxBuilds: 1 })],
  builders: [
    builder({
      name: 'stream',
      description: 'Prints coloured lines slowly, to stdout and stderr',
      workerNames: ['w1'],
      tags: ['e2e', 'fast'],
      factory: buildFactory([
        shellCommand({
          name: 'count',
          command: 'for i in 1 2 3 4 5 6 7 8; do printf "\\\\033[32mline $i\\\\033[0m\\\\n"; echo "note $i" >&2; sleep 0.5; done',
        }),
      ]),
    }),
    builder({
      name: 'sleepy',
      description: 'Runs until someone stops it',
      workerNames: ['w1'],
      tags: ['e2e'],
      factory: buildFactory([shellCommand({ name: 'nap', command: 'echo napping; sleep 300' })]),
    }),
  ],
  schedulers: [
    forceScheduler({
      name: 'force',
      builderNames: ['stream', 'sleepy'],
      properties: [{ name: 'repeat', type: 'int', default: 2, label: 'Repeat' }],
    }),
  ],
});
`;

let master: RunningMaster;
let browser: BrowserContext;
let worker: SpawnedProcess;
let page: Page;
const pageErrors: string[] = [];
let builderIds: Record<string, number> = {};

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * The REST reads (`/api/v2` path and query, GET only) the page makes while `action` runs:
 * what a page view asks the API, to check it needs no id from an earlier answer.
 */
async function apiReads(action: () => Promise<void>): Promise<string[]> {
  const reads: string[] = [];
  const onRequest = (request: Request) => {
    const url = new URL(request.url());
    if (request.method() === 'GET' && url.pathname.startsWith('/api/v2/'))
      reads.push(decodeURIComponent(url.pathname.slice('/api/v2'.length) + url.search));
  };
  page.on('request', onRequest);
  try {
    await action();
  } finally {
    page.off('request', onRequest);
  }
  return reads;
}

/** Navigates and waits until the page has drawn its data (the UI's `data-ready` mark). */
async function open(pathname: string, ready: string): Promise<void> {
  await page.goto(master.url(pathname));
  await page.waitForSelector(`#root[data-ready="${ready}"]`, WAIT);
}

describe('web UI in Chromium', () => {
  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    master = await startMaster(CONFIG);
    worker = await startWorker(master, 'w1', 'pw-1');
    await waitForConnected(master, ['w1']);
    const { builders } = await master.get<{ builders: { builderid: number; name: string }[] }>(
      '/builders',
    );
    builderIds = Object.fromEntries(builders.map((b) => [b.name, b.builderid]));
    // A fresh profile per run; Debian's Chromium, no browser download.
    browser = await chromium.launchPersistentContext(await makeTempDir('ym-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 860 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-quic',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await master?.stop();
  });

  it('serves the UI at / and at any deep link, with an empty state for a new CI', async () => {
    await open('/', 'home');
    await page.locator('#running').getByText('Nothing is running.').waitFor(WAIT);
    await page.locator('#queue').getByText('The queue is empty.').waitFor(WAIT);
    await page.waitForSelector('[data-testid="live-status"]:has-text("live")', WAIT);
    await open(`/builders/${builderIds.stream}`, 'builder');
    expect(await page.title()).toContain('stream');
    await page.getByText('This builder has not built anything yet.').waitFor(WAIT);
  });

  it("shows the server's refusal of a bad force value next to the field", async () => {
    await open(`/builders/${builderIds.stream}`, 'builder');
    await page.getByLabel('Repeat').fill('lots');
    await page.getByRole('button', { name: 'Start build' }).click();
    const error = page.getByTestId('force-error');
    await error.waitFor(WAIT);
    expect(await error.textContent()).toContain('repeat: expected an integer, got "lots"');
    expect(await page.locator('.field-problem').textContent()).toBe(
      'expected an integer, got "lots"',
    );
    expect(page.url()).toBe(master.url(`/builders/${builderIds.stream}`));
    await shot('force-form-error');
  });

  it('forces a build from the form, streams its log while it runs, and ends in SUCCESS', async () => {
    await open(`/builders/${builderIds.stream}`, 'builder');
    await page.getByLabel('reason').fill('forced by the UI test');
    await page.getByLabel('Repeat').fill('3');
    await page.getByRole('button', { name: 'Start build' }).click();
    // The form lands on the request, which turns into the build once it starts.
    await page.waitForURL(/\/builders\/\d+\/builds\/1$/, WAIT);
    // Lines appear while the step still writes its log: streamed, not loaded at the end.
    await page.waitForFunction(
      `[...document.querySelectorAll('.log-line')].some((l) => l.textContent.includes('line 2')) &&
        document.querySelector('.log-live') !== null`,
      undefined,
      WAIT,
    );
    await shot('build-running');
    await page.waitForSelector('.build-head [data-status="success"]', WAIT);
    // stdout / stderr / header told apart, ANSI colours rendered, line numbers.
    await page.waitForSelector('.log-stdout .ansi-fg-2:has-text("line 8")', WAIT);
    expect(await page.locator('.log-stderr .log-text', { hasText: 'note 1' }).count()).toBe(1);
    expect(await page.locator('.log-header').count()).toBeGreaterThan(0);
    const last = page.locator('.log-line', { hasText: 'line 8' });
    const number = await last.getAttribute('data-line');
    expect(Number(number)).toBeGreaterThan(8);
    expect(await last.locator('.log-number').textContent()).toBe(number);
    const props = await page.locator('#properties').textContent();
    expect(props).toContain('forced by the UI test');
    expect(props).toContain('Force Build Form');
    await shot('build');
    // The raw log downloads from the REST API.
    const href = await page.getByRole('link', { name: 'Download raw' }).getAttribute('href');
    const raw = await (await fetch(master.url(href ?? ''))).text();
    expect(raw).toContain('note 8');
  });

  it('shows a worker go from idle to busy and back, and stops a running build from its page', async () => {
    await open('/workers', 'workers');
    const state = page.getByTestId('worker-state-w1');
    await page.waitForSelector('[data-testid="worker-state-w1"]:has-text("idle")', WAIT);
    await master.force('force', { builderNames: ['sleepy'] });
    // No reload: the page follows live events.
    await page.waitForSelector('[data-testid="worker-state-w1"]:has-text("busy")', WAIT);
    await shot('workers');
    await page
      .locator('[data-worker="w1"]')
      .getByRole('link', { name: /sleepy #1/ })
      .click();
    await page.waitForSelector('#root[data-ready="build"]', WAIT);
    await page.waitForSelector('.log-stdout:has-text("napping")', WAIT);
    await page.getByTestId('stop').click();
    await page.waitForSelector('.build-head [data-status="cancelled"]', WAIT);
    await shot('build-stopped');
    await page.goBack();
    await page.waitForURL(/\/workers$/, WAIT);
    await page.waitForSelector('[data-testid="worker-state-w1"]:has-text("idle")', WAIT);
    expect(await state.textContent()).toBe('idle');
  });

  it('pauses a worker so a forced build waits, cancels the waiting request, unpauses', async () => {
    await open('/workers', 'workers');
    await page.getByTestId('pause-w1').click();
    await page.waitForSelector('[data-worker="w1"] .flag-paused', WAIT);
    const { brids } = await master.force('force', { builderNames: ['stream'] });
    const brid = Object.values(brids)[0];
    await open('/', 'home');
    await page
      .locator('#queue')
      .getByRole('link', { name: `request ${brid}` })
      .waitFor(WAIT);
    await shot('home-queue');
    await open(`/builders/${builderIds.stream}`, 'builder');
    const pending = page.getByTestId(`pending-${brid}`);
    await pending.getByRole('button', { name: 'Cancel' }).click();
    await pending.waitFor({ state: 'detached', ...WAIT });
    const { buildrequests } = await master.get<{
      buildrequests: { complete: boolean; results: number }[];
    }>(`/buildrequests/${brid}`);
    expect(buildrequests[0]).toMatchObject({ complete: true, results: 6 });
    await open('/workers', 'workers');
    await page.getByTestId('unpause-w1').click();
    await page.waitForSelector('[data-worker="w1"] .flag-paused', { state: 'detached', ...WAIT });
  });

  it('reads each page in one round from its URL: running steps on Home, a build by its path', async () => {
    const { brids } = await master.force('force', { builderNames: ['sleepy'] });
    const brid = Object.values(brids)[0] ?? 0;
    const build = await waitForBuild(master, brid, () => true);
    // Home: the running build's current step, live, from one read of every running step.
    const home = await apiReads(async () => {
      await open('/', 'home');
      await page
        .getByTestId(`running-build-${build.buildid}`)
        .locator('.current-step:has-text("nap")')
        .waitFor(WAIT);
    });
    await shot('home-running');
    expect(home.some((r) => r.startsWith('/steps?complete=false'))).toBe(true);
    // No read names an id: nothing per row (such as /builds/<id>/steps).
    const namesAnId = (r: string) => /\/\d+(\/|$)/.test(r.split('?')[0] ?? '');
    expect(home.filter(namesAnId)).toEqual([]);
    // Builders: lists only (every builder's recent results in one read).
    const builders = await apiReads(() => open('/builders', 'builders'));
    expect(builders.filter(namesAnId)).toEqual([]);
    expect(builders.length).toBeGreaterThan(0);
    // Builder: every read by the builder in the URL.
    const builderPath = `/builders/${builderIds.sleepy}`;
    const builder = await apiReads(() => open(builderPath, 'builder'));
    const byBuilder = (r: string) =>
      r.startsWith(builderPath) && /^(\/|\?|$)/.test(r.slice(builderPath.length));
    expect(builder.filter((r) => r !== '/workers' && !byBuilder(r))).toEqual([]);
    expect(builder.some((r) => r.startsWith(`${builderPath}/builds?`))).toBe(true);

    // Build: every read is the build's own path (or one the URL alone gives), so all go out
    // at once; only the log view's lines are read by the log's id, once its length is known.
    const buildPath = `/builders/${builderIds.sleepy}/builds/${build.number}`;
    const reads = await apiReads(async () => {
      await open(buildPath, 'build');
      await page.waitForSelector('.log-stdout:has-text("napping")', WAIT);
      await page.locator('#sources .reason').waitFor(WAIT);
    });
    const own = (r: string) =>
      r === `/builders/${builderIds.sleepy}` ||
      r.startsWith(`${buildPath}?`) ||
      (r.startsWith(buildPath) &&
        /^\/(steps|logs|buildset|changes)(\?|$)/.test(r.slice(buildPath.length))) ||
      r === '/workers' ||
      /^\/logs\/\d+(\/contents)?(\?|$)/.test(r);
    expect(reads.filter((r) => !own(r))).toEqual([]);
    for (const sub of ['/steps', '/logs', '/buildset', '/changes'])
      expect(reads).toContain(`${buildPath}${sub}`);
    expect(await page.locator('#sources .reason').textContent()).toMatch(/force/i);
    await page.getByTestId('stop').click();
    await page.waitForSelector('.build-head [data-status="cancelled"]', WAIT);
  });

  it('rebuilds a finished build from its page, and says so when a build does not exist', async () => {
    await open(`/builders/${builderIds.stream}/builds/1`, 'build');
    await page.getByTestId('rebuild').click();
    // The rebuild lands on its request, which becomes build #2 once it starts.
    await page.waitForURL(/\/builders\/\d+\/builds\/2$/, WAIT);
    await page.waitForSelector('.build-head [data-status="success"]', WAIT);
    expect(await page.locator('#sources .reason').textContent()).toContain(
      'rebuilt from the web UI',
    );
    await page.goto(master.url(`/builders/${builderIds.stream}/builds/99`));
    const error = page.getByRole('alert');
    await error.getByText('No such build.').waitFor(WAIT);
    expect(await error.textContent()).toContain('build 99 of builder');
    await shot('build-not-found');
  });

  it('draws every main page with data, and deep links survive a reload', async () => {
    await open('/', 'home');
    await page.waitForSelector('#recent .badge', WAIT);
    await shot('home');
    await open('/builders?tag=e2e', 'builders');
    await page.waitForSelector('[data-builder="stream"] .chip', WAIT);
    await shot('builders');
    await page.getByLabel('Filter builders by name').fill('slee');
    await page.waitForSelector('[data-builder="stream"]', { state: 'detached', ...WAIT });
    expect(page.url()).toContain('name=slee');
    await open(`/builders/${builderIds.stream}`, 'builder');
    await page.waitForSelector('[data-build-number="1"]', WAIT);
    await shot('builder');
    await open('/grid', 'grid');
    await page.waitForSelector('.grid .chip', WAIT);
    await shot('grid');
    await open('/masters', 'masters');
    await page.getByText('alive').waitFor(WAIT);
    await shot('masters');
    await page.goto(master.url('/no/such/page'));
    await page.getByText('Nothing lives at /no/such/page.').waitFor(WAIT);
    expect(pageErrors).toEqual([]);
  });

  it('shuts a worker down gracefully from the workers page: it disconnects and exits', async () => {
    await open('/workers', 'workers');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('[data-worker="w1"]').getByRole('button', { name: 'Shut down' }).click();
    await page.waitForSelector('[data-testid="worker-state-w1"]:has-text("offline")', WAIT);
    const exit = await worker.exited;
    expect(exit.code).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
