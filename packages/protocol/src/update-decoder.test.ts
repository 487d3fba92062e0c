import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, encodeValue, type Frame } from './codec.js';
import { loadGoldenFixtures } from './fixtures.js';
import { decodeUpdateFrame } from './update-decoder.js';

/**
 * `frame` as decodeFrame gives it, with every log chunk's two lists emptied and its text as
 * UTF-8 bytes.
 */
function withoutLineLists(frame: Frame): Frame {
  if (frame.op !== 'update' || !Array.isArray(frame.args)) return frame;
  const args = (frame.args as unknown[]).map((pair: unknown): unknown => {
    if (!Array.isArray(pair) || pair.length !== 2) return pair;
    const [key, value] = pair as [unknown, unknown];
    const empty = (chunk: unknown): unknown =>
      Array.isArray(chunk) &&
      chunk.length === 3 &&
      typeof chunk[0] === 'string' &&
      [chunk[1], chunk[2]].every(
        (list) => Array.isArray(list) && list.every((item) => typeof item === 'number'),
      )
        ? [Buffer.from(chunk[0]), [], []]
        : chunk;
    if (key === 'stdout' || key === 'stderr' || key === 'header') return [key, empty(value)];
    if (key === 'log' && Array.isArray(value) && value.length === 2) {
      return [key, [value[0], empty(value[1])]];
    }
    return pair;
  });
  return { ...frame, args };
}

const chunk = (text: string): [string, number[], number[]] => {
  const offsets: number[] = [];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) offsets.push(i);
  return [text, offsets, offsets.map((_, i) => 1_700_000_000.25 + i)];
};

describe('decodeUpdateFrame', () => {
  it.each(loadGoldenFixtures().map((fixture) => [fixture.name, fixture] as const))(
    '%s (Python bytes): the same frame as decodeFrame, log lines lists emptied, or none',
    (name, fixture) => {
      const fast = decodeUpdateFrame(fixture.bytes);
      const full = decodeFrame(fixture.bytes);
      if (full.op === 'update') expect(fast, name).toBeDefined();
      else expect(fast).toBeUndefined();
      if (fast) expect(fast).toEqual(withoutLineLists(full));
    },
  );

  it('reads every kind of entry our worker and buildbot-worker send', () => {
    const frame: Frame = {
      op: 'update',
      args: [
        ['stdout', chunk('one\ntwo\n')],
        ['stderr', chunk('é😀\n'.repeat(40))],
        ['header', chunk('h\n')],
        ['log', ['build.log', chunk(`${'x'.repeat(70_000)}\n`)]],
        ['rc', -1],
        ['elapsed', 1.5],
        ['stat', [1, 2, 3, 4, 5, 6, 2 ** 40, 1.5, 2.5, 3.5]],
        ['files', ['a', 'b']],
        ['odd', { nested: [null, true, false, Buffer.from([1, 2]), -200, 70_000, -(2 ** 35)] }],
        ['stdout', ['not lines', ['a'], []]],
        ['stdout', 'plain text'],
        'not a pair',
        ['three', 'items', 'here'],
      ],
      command_id: '12',
      seq_number: 2 ** 33,
    };
    const bytes = encodeFrame(frame);
    const fast = decodeUpdateFrame(bytes);
    expect(fast).toEqual(withoutLineLists(decodeFrame(bytes)));
    const stdout = (fast?.args as [string, [Buffer]][])[0];
    expect(stdout).toEqual(['stdout', [Buffer.from('one\ntwo\n'), [], []]]);
    // The text is a view of the frame, not a copy.
    expect(stdout?.[1][0].buffer).toBe(bytes.buffer);
    expect((fast?.args as unknown[])[9]).toEqual(['stdout', ['not lines', ['a'], []]]);
  });

  it('leaves anything else to decodeFrame', () => {
    const update = { op: 'update', args: [['rc', 0]], command_id: '1', seq_number: 1 };
    const bytes = encodeFrame(update);
    expect(decodeUpdateFrame(bytes)).toEqual(update);
    // another op, op not first, no seq_number, a fractional seq_number
    expect(decodeUpdateFrame(encodeFrame({ op: 'complete', seq_number: 1 }))).toBeUndefined();
    expect(decodeUpdateFrame(encodeValue({ seq_number: 1, op: 'update' }))).toBeUndefined();
    expect(decodeUpdateFrame(encodeValue({ op: 'update', args: [] }))).toBeUndefined();
    expect(decodeUpdateFrame(encodeValue({ op: 'update', seq_number: 1.5 }))).toBeUndefined();
    // truncated, trailing bytes, not a map, an extension type (a timestamp), a reserved byte
    expect(decodeUpdateFrame(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(decodeUpdateFrame(Buffer.concat([bytes, Buffer.from([0xc0])]))).toBeUndefined();
    expect(decodeUpdateFrame(encodeValue(['op', 'update']))).toBeUndefined();
    const ext = Buffer.from(bytes);
    const rc = ext.lastIndexOf(Buffer.from([0xa2, 0x72, 0x63, 0x00]));
    expect(rc).toBeGreaterThan(0);
    const withExt = Buffer.concat([
      ext.subarray(0, rc + 3),
      Buffer.from([0xd6, 0xff, 0, 0, 0, 1]),
      ext.subarray(rc + 4),
    ]);
    expect(decodeUpdateFrame(withExt)).toBeUndefined();
    ext[rc + 3] = 0xc1;
    expect(decodeUpdateFrame(ext)).toBeUndefined();
    expect(() => decodeFrame(ext)).toThrow();
    // a map key that is not a string
    expect(decodeUpdateFrame(Buffer.from('82a26f70a6757064617465' + '01c0', 'hex'))).toBe(
      undefined,
    );
  });
});
