/**
 * Loading the golden fixtures in packages/protocol/fixtures (NAME.json + NAME.msgpack, written
 * by fixtures/generate.py with Python msgpack). In the JSON, bytes are `{"$bytes": base64}`.
 * Used by this package's tests and available to other packages' tests.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenFixture {
  name: string;
  /** The frame with `$bytes` objects turned into Buffers. */
  value: unknown;
  /** The raw JSON text. */
  json: string;
  /** The bytes Python msgpack produced. */
  bytes: Buffer;
}

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function loadGoldenFixtures(dir: string = FIXTURES_DIR): GoldenFixture[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.json'.length);
      const json = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        name,
        json,
        value: fromFixtureJson(JSON.parse(json) as unknown),
        bytes: readFileSync(`${dir}/${name}.msgpack`),
      };
    });
}

/** Turn `{"$bytes": base64}` objects into Buffers, recursively. */
export function fromFixtureJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromFixtureJson);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === '$bytes' && typeof record.$bytes === 'string') {
      return Buffer.from(record.$bytes, 'base64');
    }
    return Object.fromEntries(keys.map((key) => [key, fromFixtureJson(record[key])]));
  }
  return value;
}
