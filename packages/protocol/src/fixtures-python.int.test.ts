/**
 * Cross-checks the golden fixtures and our encoder against the reference: Python msgpack 1.0
 * (/usr/bin/python3 with python3-msgpack, as Buildbot 3.7 uses). Skipped if it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from './codec.js';
import { FIXTURES_DIR, loadGoldenFixtures } from './fixtures.js';

const PYTHON = '/usr/bin/python3';
const hasPythonMsgpack =
  spawnSync(PYTHON, ['-c', 'import msgpack'], { stdio: 'ignore' }).status === 0;

// Reads NAME.msgpack with msgpack.unpackb(raw=False) and compares it with NAME.json (bytes
// as {"$bytes": base64}); then decodes hex frames from stdin the same way.
const CHECK_SCRIPT = `
import base64, json, os, sys, msgpack
def from_json(v):
    if isinstance(v, dict):
        if list(v) == ['$bytes']:
            return base64.b64decode(v['$bytes'])
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v
def to_json(v):
    if isinstance(v, bytes):
        return {'$bytes': base64.b64encode(v).decode()}
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    return v
mode, target = sys.argv[1], sys.argv[2]
if mode == 'fixtures':
    bad = []
    names = sorted(f[:-5] for f in os.listdir(target) if f.endswith('.json'))
    for name in names:
        with open(os.path.join(target, name + '.msgpack'), 'rb') as f:
            decoded = msgpack.unpackb(f.read(), raw=False)
        with open(os.path.join(target, name + '.json'), encoding='utf-8') as f:
            expected = from_json(json.load(f))
        if decoded != expected or not isinstance(decoded.get('op'), str):
            bad.append(name)
    print(json.dumps({'checked': len(names), 'bad': bad}))
else:
    out = [to_json(msgpack.unpackb(bytes.fromhex(line), raw=False)) for line in sys.stdin.read().split()]
    print(json.dumps(out))
`;

describe.skipIf(!hasPythonMsgpack)('Python msgpack interop', () => {
  it('decodes every fixture to the fixture JSON', () => {
    const output = execFileSync(PYTHON, ['-c', CHECK_SCRIPT, 'fixtures', FIXTURES_DIR], {
      encoding: 'utf8',
    });
    const result = JSON.parse(output) as { checked: number; bad: string[] };
    expect(result.bad).toEqual([]);
    expect(result.checked).toBe(loadGoldenFixtures().length);
  });

  it('decodes frames we encode (bytes, large ints, unicode, nesting)', () => {
    const frames: Frame[] = [
      {
        op: 'update_upload_file_write',
        args: Buffer.from([0, 255, 10]),
        command_id: '1',
        seq_number: 0,
      },
      {
        op: 'update',
        args: [['stat', [2 ** 40, -(2 ** 35), 0.25]]],
        command_id: '2',
        seq_number: 70000,
      },
      { op: 'print', message: 'été 😀 \u0000', seq_number: 2 ** 31 },
      { op: 'x', seq_number: 1, nested: { a: [{ b: null, c: true, d: false }] } },
    ];
    const input = frames.map((frame) => encodeFrame(frame).toString('hex')).join('\n');
    const output = execFileSync(PYTHON, ['-c', CHECK_SCRIPT, 'stdin', '-'], {
      encoding: 'utf8',
      input,
    });
    const decoded = JSON.parse(output) as unknown[];
    expect(decoded).toEqual([
      { op: 'update_upload_file_write', args: { $bytes: 'AP8K' }, command_id: '1', seq_number: 0 },
      {
        op: 'update',
        args: [['stat', [2 ** 40, -(2 ** 35), 0.25]]],
        command_id: '2',
        seq_number: 70000,
      },
      { op: 'print', message: 'été 😀 \u0000', seq_number: 2 ** 31 },
      { op: 'x', seq_number: 1, nested: { a: [{ b: null, c: true, d: false }] } },
    ]);
  });
});
