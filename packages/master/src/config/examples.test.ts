import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { describe, expect, it, vi } from 'vitest';

import { loadConfig } from './load-config.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../../examples');

/** Every examples/<name>/master.config.ts. */
const examples = (await readdir(EXAMPLES, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('examples', () => {
  it('has examples to check', () => {
    expect(examples).toEqual(expect.arrayContaining(['basic', 'demo']));
  });

  it.each(examples)('examples/%s/master.config.ts is valid', async (name) => {
    const config = await loadConfig(path.join(EXAMPLES, name, 'master.config.ts'));
    expect(config.builders.length).toBeGreaterThan(0);
  });

  it('the demo takes its password, repository and ports from the environment', async () => {
    vi.stubEnv('YARDMASTER_DEMO_PASSWORD', 'from-env');
    vi.stubEnv('YARDMASTER_DEMO_REPO_URL', 'file:///tmp/somewhere/repo.git');
    vi.stubEnv('YARDMASTER_DEMO_WWW_PORT', '18010');
    vi.stubEnv('YARDMASTER_DEMO_WORKER_PORT', '19989');
    const config = await loadConfig(path.join(EXAMPLES, 'demo', 'master.config.ts'));
    expect(config.workers.map((worker) => [worker.name, worker.password])).toEqual([
      ['local-1', 'from-env'],
    ]);
    const gitStep = config.builders
      .find((builder) => builder.name === 'git-demo')
      ?.factory.steps.find((step) => step.type === 'git');
    expect(gitStep?.type === 'git' && gitStep.repourl).toBe('file:///tmp/somewhere/repo.git');
    expect(config.www.port).toBe(18010);
    expect(config.workerPort).toBe(19989);
    expect(config.builders.map((builder) => builder.name)).toEqual(['hello', 'git-demo']);
    expect(config.schedulers.map((scheduler) => [scheduler.name, scheduler.builderNames])).toEqual([
      ['force', ['hello', 'git-demo']],
    ]);
  });
});
