import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { logChunkLines, makeLogChunk, parseUpdateArgs } from './updates.js';
import { canonicalCommandName } from './commands.js';

describe('log chunks', () => {
  it('builds offsets and timestamps for whole lines', () => {
    expect(makeLogChunk('a\nbc\n', 1.5)).toEqual(['a\nbc\n', [1, 4], [1.5, 1.5]]);
    expect(makeLogChunk('', 1)).toEqual(['', [], []]);
    expect(() => makeLogChunk('partial', 1)).toThrow(RangeError);
  });

  it('counts offsets in code points, as Python does', () => {
    const chunk = makeLogChunk('😀\nx\n', 1);
    expect(chunk[1]).toEqual([1, 3]);
    expect(logChunkLines(chunk)).toEqual(['😀', 'x']);
  });

  it('splits a chunk into lines', () => {
    expect(logChunkLines(['one\ntwo\n', [3, 7], [0, 0]])).toEqual(['one', 'two']);
  });
});

describe('parseUpdateArgs', () => {
  it('accepts the shapes buildbot-worker sends', () => {
    const args = [
      ['header', ['x\n', [1], [1.0]]],
      ['log', ['test.log', ['y\n', [1], [2.0]]]],
      ['rc', 0],
      ['elapsed', 0.1],
      ['files', ['a', 'b']],
      ['stat', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
      ['custom', { any: 'thing' }],
    ];
    expect(parseUpdateArgs(args)).toEqual(args);
  });

  it.each([
    ['not a list', { rc: 0 }],
    ['not pairs', [['rc']]],
    ['bad chunk', [['stdout', 'text']]],
    ['bad rc', [['rc', '0']]],
    ['bad files', [['files', [1]]]],
    ['bad stat', [['stat', [1, 2]]]],
    ['bad log', [['log', ['x\n', [1], [1]]]]],
  ])('rejects %s', (_what, args) => {
    expect(() => parseUpdateArgs(args)).toThrow(ProtocolError);
  });
});

describe('canonicalCommandName', () => {
  it('maps PB spellings and rejects unknown names', () => {
    expect(canonicalCommandName('uploadFile')).toBe('upload_file');
    expect(canonicalCommandName('shell')).toBe('shell');
    expect(canonicalCommandName('toString')).toBeUndefined();
    expect(canonicalCommandName('frobnicate')).toBeUndefined();
  });
});
