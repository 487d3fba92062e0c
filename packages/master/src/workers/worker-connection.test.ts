import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WORKER_SETTINGS,
  OWN_WORKER_BUFFER_SIZE,
  workerSettingsFor,
} from './worker-connection.js';

describe('workerSettingsFor', () => {
  it("gives buildbot-worker Buildbot's 64 KiB buffer_size and our worker a larger one", () => {
    expect(workerSettingsFor({ version: '3.7.0' })).toEqual(DEFAULT_WORKER_SETTINGS);
    expect(workerSettingsFor({})).toEqual(DEFAULT_WORKER_SETTINGS);
    expect(DEFAULT_WORKER_SETTINGS.buffer_size).toBe(65536);
    expect(workerSettingsFor({ version: 'yardmaster-0.1.0' })).toEqual({
      ...DEFAULT_WORKER_SETTINGS,
      buffer_size: OWN_WORKER_BUFFER_SIZE,
    });
    expect(OWN_WORKER_BUFFER_SIZE).toBeGreaterThan(65536);
  });
});
