/**
 * Cross-check: LineSplitter against buildbot-worker's LineBoundaryFinder (Python) for the
 * same appends, with lines shorter than max_line_length (Buildbot mis-cuts longer ones).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { DEFAULT_WORKER_SETTINGS, type LogChunk } from '@yardmaster/protocol';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';
import { pythonRegexToJs } from './python-regex.js';

const PYTHON = '/usr/bin/python3';
const available =
  spawnSync(PYTHON, ['-c', 'import buildbot_worker.util.lineboundaries'], { stdio: 'ignore' })
    .status === 0;

const SCRIPT = `
import json, sys
from buildbot_worker.util.lineboundaries import LineBoundaryFinder
cases = json.load(sys.stdin)
out = []
for case in cases:
    lbf = LineBoundaryFinder(case['max'], case['re'])
    results = [lbf.append(text, t) for text, t in case['appends']]
    results.append(lbf.flush())
    out.append([None if r is None else [r[0], r[1], r[2]] for r in results])
print(json.dumps(out))
`;

const CASES: { appends: [string, number][] }[] = [
  {
    appends: [
      ['hello\nwor', 1],
      ['ld\n', 2],
      ['tail', 3],
    ],
  },
  {
    appends: [
      ['a\r\nb\r', 1],
      ['c\n', 2],
      ['\x1b[1;2Hd\x08\x08e\n', 3],
    ],
  },
  {
    appends: [
      ['progress 10%\rprogress 20%\r', 1],
      ['progress 100%\n', 2],
    ],
  },
  {
    appends: [
      ['', 1],
      ['x', 2],
      ['', 3],
      ['y\n\n\n', 4],
    ],
  },
  {
    appends: [
      ['été ünïcode 😀 emoji\nnext', 1],
      [' line\n', 2],
    ],
  },
  { appends: [['no newline at all', 1]] },
];

describe.skipIf(!available)('LineSplitter vs buildbot-worker LineBoundaryFinder', () => {
  it('produces the same chunks', () => {
    const input = CASES.map((c) => ({
      max: 4096,
      re: DEFAULT_WORKER_SETTINGS.newline_re,
      appends: c.appends,
    }));
    const expected = JSON.parse(
      execFileSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(input), encoding: 'utf8' }),
    ) as (LogChunk | null)[][];
    const actual = CASES.map((c) => {
      const splitter = new LineSplitter(4096, pythonRegexToJs(DEFAULT_WORKER_SETTINGS.newline_re));
      const results = c.appends.map(([text, time]) => splitter.append(text, time));
      results.push(splitter.flush());
      return results;
    });
    expect(actual).toEqual(expected);
  });
});
