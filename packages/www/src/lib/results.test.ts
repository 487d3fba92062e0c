import { describe, expect, it } from 'vitest';
import {
  RESULT_CODES,
  Results,
  isBad,
  resultStatus,
  statusClass,
  statusLabel,
  statusOf,
} from './results.js';

describe('results', () => {
  it("keeps Buildbot's numbers and names", () => {
    expect(RESULT_CODES.map(resultStatus)).toEqual([
      'success',
      'warnings',
      'failure',
      'skipped',
      'exception',
      'retry',
      'cancelled',
    ]);
    expect(Results.CANCELLED).toBe(6);
    expect(resultStatus(null)).toBe('unknown');
    expect(resultStatus(42)).toBe('unknown');
  });

  it('tells running and pending apart from results', () => {
    expect(statusOf({ complete: false, results: null, started_at: 10 })).toBe('running');
    expect(statusOf({ complete: false, results: null, started_at: null })).toBe('pending');
    expect(statusOf({ complete: false, results: null })).toBe('running');
    expect(statusOf({ complete: true, results: 2, started_at: 10 })).toBe('failure');
  });

  it('labels and classes', () => {
    expect(statusLabel('success')).toBe('SUCCESS');
    expect(statusLabel('unknown')).toBe('?');
    expect(statusClass('retry')).toBe('status-retry');
    expect(isBad('failure')).toBe(true);
    expect(isBad('exception')).toBe(true);
    expect(isBad('warnings')).toBe(false);
  });
});
