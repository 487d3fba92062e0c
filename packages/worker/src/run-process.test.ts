import { describe, expect, it } from 'vitest';
import { mergeEnvironment } from './run-process.js';

const base = { PATH: '/usr/bin:/bin', HOME: '/home/w', PYTHONPATH: '/lib/py', DROP: 'x' };

describe('mergeEnvironment', () => {
  it('uses the worker environment when env is empty or missing', () => {
    expect(mergeEnvironment(base, {})).toEqual(base);
    expect(mergeEnvironment(base, null)).toEqual(base);
  });

  it('joins lists, expands ${VAR}, appends ${PYTHONPATH} and deletes nulls, as buildbot-worker', () => {
    expect(
      mergeEnvironment(base, {
        PATH: ['/opt/bin', '${PATH}'],
        PYTHONPATH: 'src',
        DROP: null,
        GREETING: 'hi ${HOME} ${UNSET}!',
      }),
    ).toEqual({
      PATH: '/opt/bin:/usr/bin:/bin',
      HOME: '/home/w',
      PYTHONPATH: 'src:/lib/py',
      GREETING: 'hi /home/w !',
    });
  });

  it('refuses values that are not strings or lists', () => {
    expect(() => mergeEnvironment(base, { N: 3 })).toThrow(
      "'env' values must be strings or lists; key 'N' is incorrect",
    );
  });
});
