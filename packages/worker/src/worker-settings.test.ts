import { DEFAULT_WORKER_SETTINGS } from '@yardmaster/protocol';
import { describe, expect, it } from 'vitest';
import { WorkerSettingsState } from './worker-settings.js';

describe('WorkerSettingsState', () => {
  it("keeps line lists unless the master's send_line_lists says otherwise", () => {
    const state = new WorkerSettingsState();
    expect(state.active.lineLists).toBe(true);
    state.update({ ...DEFAULT_WORKER_SETTINGS });
    expect(state.active.lineLists).toBe(true);
    state.update({ ...DEFAULT_WORKER_SETTINGS, send_line_lists: false });
    expect(state.active.lineLists).toBe(false);
    expect(state.settings.send_line_lists).toBe(false);
  });

  it('rejects a send_line_lists that is not a boolean, changing nothing', () => {
    const state = new WorkerSettingsState();
    state.update({ ...DEFAULT_WORKER_SETTINGS, buffer_size: 1234 });
    expect(() => state.update({ ...DEFAULT_WORKER_SETTINGS, send_line_lists: 'no' })).toThrow(
      'send_line_lists must be a boolean',
    );
    expect(state.settings.buffer_size).toBe(1234);
    expect(state.active.lineLists).toBe(true);
  });
});
