import { describe, expect, it } from 'vitest';
import { fieldProblems } from './force-problems.js';

describe('fieldProblems', () => {
  it("puts each of the server's problems next to its field", () => {
    const message =
      'force scheduler "force" refused the request: count: expected an integer, got "many"; ' +
      'flag: expected true or false, got "maybe"; builderid: 9 is not a builder of this scheduler';
    expect(fieldProblems(message, ['reason', 'count', 'flag'])).toEqual({
      count: 'expected an integer, got "many"',
      flag: 'expected true or false, got "maybe"',
    });
  });

  it('finds nothing in a message about no field', () => {
    expect(fieldProblems('The master cannot be reached. Is it running?', ['reason'])).toEqual({});
    expect(fieldProblems('', ['reason'])).toEqual({});
  });

  it('reads a bare "field: problem" message too', () => {
    expect(fieldProblems('reason: a value is required', ['reason'])).toEqual({
      reason: 'a value is required',
    });
  });
});
