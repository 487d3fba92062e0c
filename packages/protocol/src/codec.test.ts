import { describe, expect, it } from 'vitest';
import { asPlainNumberList, decodeFrame, encodeFrame, encodeValue, type Frame } from './codec.js';
import { ProtocolError } from './errors.js';
import { loadGoldenFixtures } from './fixtures.js';

const fixtures = loadGoldenFixtures();

describe('golden fixtures', () => {
  it('has fixtures for every op both sides send', () => {
    const ops = new Set(fixtures.map((fixture) => (fixture.value as Frame).op));
    for (const op of [
      'print',
      'keepalive',
      'get_worker_info',
      'set_worker_settings',
      'start_command',
      'interrupt_command',
      'shutdown',
      'response',
      'update',
      'complete',
      'update_upload_file_write',
      'update_upload_file_utime',
      'update_upload_file_close',
      'update_upload_directory_write',
      'update_upload_directory_unpack',
      'update_read_file',
      'update_read_file_close',
    ]) {
      expect(ops, op).toContain(op);
    }
  });

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))(
    '%s: encoding the JSON gives exactly the Python bytes',
    (_name, fixture) => {
      expect(encodeFrame(fixture.value as Frame).toString('hex')).toBe(
        fixture.bytes.toString('hex'),
      );
    },
  );

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))(
    '%s: decoding the bytes gives the JSON',
    (_name, fixture) => {
      expect(decodeFrame(fixture.bytes)).toEqual(fixture.value);
    },
  );
});

describe('encodeFrame', () => {
  it('writes integers beyond 32 bits as integers, not floats', () => {
    expect(encodeValue(2 ** 40).toString('hex')).toBe('d30000010000000000');
    expect(encodeValue(-(2 ** 40)).toString('hex')).toBe('d3ffffff0000000000');
    expect(decodeFrame(encodeFrame({ op: 'x', seq_number: 0, n: 2 ** 40 })).n).toBe(2 ** 40);
  });

  it('writes floats as float64 and small maps as fixmaps', () => {
    expect(encodeValue(0.5).toString('hex')).toBe('cb3fe0000000000000');
    expect(encodeValue({ a: 1 }).toString('hex')).toBe('81a16101');
  });

  it('drops undefined properties and turns undefined array items into nil', () => {
    const frame = { op: 'x', seq_number: 1, gone: undefined, list: [undefined, 1] };
    expect(decodeFrame(encodeFrame(frame))).toEqual({ op: 'x', seq_number: 1, list: [null, 1] });
  });

  it('writes Uint8Array as bin and decodes bin to Buffer', () => {
    const decoded = decodeFrame(
      encodeFrame({ op: 'x', seq_number: 2, data: new Uint8Array([1, 2, 3]) }),
    );
    expect(Buffer.isBuffer(decoded.data)).toBe(true);
    expect([...(decoded.data as Buffer)]).toEqual([1, 2, 3]);
  });

  it('refuses values msgpack cannot carry', () => {
    expect(() => encodeFrame({ op: 'x', seq_number: 0, when: new Date() })).toThrow(ProtocolError);
    expect(() => encodeFrame({ op: 'x', seq_number: 0, f: () => 1 })).toThrow(
      /cannot encode function at \$\.f/,
    );
    expect(() => encodeFrame({ op: 'x', seq_number: 0, m: new Map() })).toThrow(ProtocolError);
  });
});

describe('decodeFrame', () => {
  const garbage: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['truncated map', Buffer.from('81a16101', 'hex').subarray(0, 3)],
    [
      'trailing bytes',
      Buffer.concat([encodeFrame({ op: 'x', seq_number: 0 }), Buffer.from([0xc0])]),
    ],
    ['an array', encodeValue(['op', 1])],
    ['a string', encodeValue('hello')],
    ['nil', encodeValue(null)],
    ['no op', encodeValue({ seq_number: 1 })],
    ['numeric op', encodeValue({ op: 1, seq_number: 1 })],
    ['no seq_number', encodeValue({ op: 'print' })],
    ['float seq_number', encodeValue({ op: 'print', seq_number: 1.5 })],
    ['string seq_number', encodeValue({ op: 'print', seq_number: '1' })],
    ['reserved byte 0xc1', Buffer.from('82a26f70a178aa7365715f6e756d62657200a178c1', 'hex')],
    ['extension type', Buffer.from('82a26f70a178aa7365715f6e756d62657200a178d40000', 'hex')],
    ['text', Buffer.from('{"op":"print","seq_number":0}')],
  ];
  it.each(garbage)('rejects %s with ProtocolError', (_what, data) => {
    expect(() => decodeFrame(data)).toThrow(ProtocolError);
  });

  it('accepts extra fields and keeps them', () => {
    expect(decodeFrame(encodeValue({ op: 'print', seq_number: 3, message: 'hi', x: [1] }))).toEqual(
      { op: 'print', seq_number: 3, message: 'hi', x: [1] },
    );
  });
});

describe('asPlainNumberList', () => {
  it('encodes a marked list of offsets and timestamps to the same bytes as an unmarked one', () => {
    const chunk = (): [string, number[], number[]] => [
      'a\nbc\n\n',
      [1, 4, 5],
      [1_700_000_000.25, 1_700_000_000, 0.5],
    ];
    const plain = chunk();
    const marked = chunk();
    asPlainNumberList(marked[1]);
    expect(asPlainNumberList(marked[2])).toBe(marked[2]);
    const frame = (value: unknown): Frame => ({
      op: 'update',
      seq_number: 1,
      args: [['stdout', value]],
    });
    expect(encodeFrame(frame(marked))).toEqual(encodeFrame(frame(plain)));
    expect(decodeFrame(encodeFrame(frame(marked))).args).toEqual([['stdout', plain]]);
  });

  it('leaves unmarked lists normalized (a large integer is still sent as a 64-bit int)', () => {
    const bytes = encodeValue([2 ** 40]);
    expect(bytes[1]).toBe(0xd3); // int64, not float64 (0xcb)
  });
});
