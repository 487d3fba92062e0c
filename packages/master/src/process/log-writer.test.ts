import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { gzipSync } from 'node:zlib';
import { DataApi } from '../data/data-api.js';
import { BROTLI } from '../data/logs.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { LogWriter } from './log-writer.js';

describe('LogWriter (SQLite)', () => {
  let handle: DatabaseHandle;
  let data: DataApi;
  let stepid: number;

  beforeEach(async () => {
    handle = await openDatabase('sqlite://', '/tmp');
    const bus = new InProcessBus((error) => {
      throw error;
    });
    data = new DataApi({ db: handle.db, bus, now: () => 1_700_000_000_000 });
    const masterid = await data.masters.register('m');
    const builderid = await data.builders.ensure('b', null, []);
    const { brids } = await data.buildsets.add({
      reason: 'test',
      sourcestamps: [{ branch: 'main' }],
      properties: {},
      builderids: [builderid],
      priority: 0,
    });
    const brid = brids[builderid] ?? 0;
    const { buildid } = await data.builds.add({
      builderid,
      buildrequestid: brid,
      workerid: null,
      masterid,
      state: 's',
    });
    stepid = (await data.steps.add(buildid, 'shell')).stepid;
  });

  afterEach(async () => {
    await handle.close();
  });

  it('prefixes stdio lines with their stream and counts them across flushes', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(data, logid, 'stdio', 's', { flushBytes: 16 });
    writer.addHeader('cmd');
    writer.addStdout('one\ntw');
    writer.addStderr('err\n');
    writer.addStdout('o\nthree\nfour\n');
    await writer.flush();
    expect(writer.numLines).toBe(6);
    expect((await data.logs.get(logid))?.num_lines).toBe(6);
    writer.addStdout('last without newline');
    await writer.finish();
    expect(writer.numLines).toBe(7);
    const log = await data.logs.get(logid);
    expect(log).toMatchObject({ num_lines: 7, complete: true });
    expect(await data.logs.contents(logid)).toBe(
      'hcmd\noone\neerr\notwo\nothree\nofour\nolast without newline\n',
    );
    expect(await data.logs.contents(logid, 4, 5)).toBe('othree\nofour\n');
  });

  it('stores large appends compressed and in order', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(data, logid, 'stdio', 's', { flushBytes: 64 * 1024 });
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'y'.repeat(i % 70)}\n`);
    for (let i = 0; i < lines.length; i += 1000)
      writer.addStdout(lines.slice(i, i + 1000).join(''));
    await writer.finish();
    const chunks = await handle.db.selectFrom('logchunks').selectAll().execute();
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((chunk) => chunk.compressed === BROTLI)).toBe(true);
    expect(await data.logs.get(logid)).toMatchObject({ num_lines: 20_000, complete: true });
    expect(await data.logs.contents(logid)).toBe(lines.map((line) => `o${line}`).join(''));
    expect(await data.logs.contents(logid, 12_345, 12_345)).toBe(`o${lines[12_345] ?? ''}`);
  });

  it('stores a chunk of several MiB (compressed on the thread pool) between small ones', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(data, logid, 'stdio', 's');
    const big = `${'b'.repeat(99)}\n`.repeat(50_000); // 5 MB in one piece
    writer.addStdout('first\n');
    await writer.flush();
    writer.addStdout(big);
    writer.addStderr('last\n');
    await writer.finish();
    const chunks = await handle.db
      .selectFrom('logchunks')
      .selectAll()
      .orderBy('first_line')
      .execute();
    expect(chunks.map((chunk) => [chunk.first_line, chunk.last_line, chunk.compressed])).toEqual([
      [0, 0, 0],
      [1, 50_000, BROTLI],
      [50_001, 50_001, 0],
    ]);
    expect(await data.logs.contents(logid)).toBe(
      `ofirst\n${big.replaceAll('\n', '\no').replace(/^/, 'o').slice(0, -1)}elast\n`,
    );
    // /raw reads the 5 MB chunk in pieces of whole lines, prefixes stripped
    const pieces: string[] = [];
    for await (const piece of data.logs.raw(logid, 's')) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(50);
    expect(pieces.every((piece) => piece.endsWith('\n') && piece.length < 70_000)).toBe(true);
    expect(pieces.join('') === `first\n${big}last\n`).toBe(true);
  });

  it('keeps every byte when it reuses its buffers while appends are in flight', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    // 70,000 bytes per flush: appends run after the writer has moved on, so later lines are
    // written while earlier buffers are still waiting to be compressed and stored.
    const writer = new LogWriter(data, logid, 'stdio', 's', { flushBytes: 70_000 });
    let expected = '';
    let lines = 0;
    for (let i = 0; i < 600; i++) {
      const stream = i % 7 === 0 ? 'e' : 'o';
      const count = 1 + (i % 37);
      let chunk = '';
      for (let j = 0; j < count; j++) {
        const line = `${i}.${j} ${'é😀y'.repeat((i * j) % 50)}`;
        chunk += `${line}\n`;
        expected += `${stream}${line}\n`;
      }
      lines += count;
      if (stream === 'e') writer.addStderr(chunk);
      else writer.addStdout(chunk);
      // Now and then one chunk bigger than a whole buffer.
      if (i % 150 === 149) {
        const big = `${'z'.repeat(199)}\n`.repeat(800);
        writer.addStdout(big);
        expected += big.replaceAll('z\n', 'z\no').replace(/^/, 'o').slice(0, -1);
        lines += 800;
      }
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await writer.finish();
    expect(await data.logs.get(logid)).toMatchObject({ num_lines: lines, complete: true });
    const contents = await data.logs.contents(logid);
    expect(contents.length).toBe(expected.length);
    expect(contents === expected).toBe(true);
    // line ranges inside a chunk and across chunks (chunks are ~70,000 bytes here)
    const all = expected.split('\n').slice(0, -1);
    for (const [first, last] of [
      [0, 0],
      [17, 17],
      [5, 2_000],
      [lines - 3, lines + 10],
      [1_234, 1_233],
    ] as const) {
      const want = all.slice(first, last + 1).map((line) => `${line}\n`);
      expect(await data.logs.contents(logid, first, last)).toBe(want.join(''));
    }
  });

  it('counts the lines of redacted text and of text logs', async () => {
    const stdio = await data.logs.add(stepid, 'stdio', 's');
    const redacting = new LogWriter(data, stdio, 'stdio', 's', {
      redactor: { isEmpty: false, redact: (text) => text.replaceAll('secret', '<hidden>') },
    });
    redacting.addStdout('a secret\nb\n');
    redacting.addStderr('é😀\n');
    const tail = await redacting.drain();
    expect(tail).toEqual({
      logid: stdio,
      text: Buffer.from('oa <hidden>\nob\neé😀\n'),
      firstLine: 0,
      lines: 3,
      stream: undefined,
    });
    expect(redacting.numLines).toBe(3);

    const text = await data.logs.add(stepid, 'out.log', 't');
    const plain = new LogWriter(data, text, 'out.log', 't', { flushBytes: 4 });
    plain.addStdout('x\ny\nz\n');
    await plain.finish();
    expect(await data.logs.get(text)).toMatchObject({ num_lines: 3, complete: true });
    expect(await data.logs.contents(text)).toBe('x\ny\nz\n');
  });

  it('stores the lines of one stream without prefixes, the stream with the chunk', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(data, logid, 'stdio', 's');
    // Bytes as a master gets them: views of a frame, cut anywhere (here inside 'é').
    const frame = Buffer.from('one\ntwé\nthree\n');
    const cut = frame.indexOf('é') + 1;
    writer.addStdout(frame.subarray(0, cut));
    writer.addStdout(frame.subarray(cut));
    frame.fill(0x21); // the frame's buffer is reused: the writer kept copies
    await writer.flush();
    writer.addStderr(Buffer.from('err\n'));
    await writer.finish();
    const chunks = await handle.db
      .selectFrom('logchunks')
      .select(['first_line', 'last_line', 'stream', 'content'])
      .orderBy('first_line')
      .execute();
    expect(chunks.map((c) => [c.first_line, c.last_line, c.stream])).toEqual([
      [0, 2, 'o'],
      [3, 3, 'e'],
    ]);
    expect(Buffer.from(chunks[0]?.content ?? []).toString()).toBe('one\ntwé\nthree\n');
    expect(await data.logs.contents(logid)).toBe('oone\notwé\nothree\neerr\n');
    expect(await data.logs.contents(logid, 1, 1)).toBe('otwé\n');
    let raw = '';
    for await (const piece of data.logs.raw(logid, 's')) raw += piece;
    expect(raw).toBe('one\ntwé\nthree\nerr\n');
  });

  it('prefixes the pending lines when a second stream joins them', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    // A full-size buffer (flushBytes 64) is reused after the switch; nothing may leak across.
    const writer = new LogWriter(data, logid, 'stdio', 's', { flushBytes: 64 });
    let expected = '';
    for (let i = 0; i < 40; i++) {
      const out = `out ${i} ${'x'.repeat(i % 9)}\n`.repeat(1 + (i % 3));
      writer.addStdout(Buffer.from(out));
      expected += out.replaceAll(/^(?=.)/gm, 'o');
      if (i % 4 === 0) {
        writer.addStderr(`err ${i}\n`);
        expected += `eerr ${i}\n`;
      }
      if (i % 5 === 0) writer.addHeader(`h${i}`);
      if (i % 5 === 0) expected += `hh${i}\n`;
      if (i % 6 === 0) await writer.flush();
    }
    await writer.finish();
    expect(await data.logs.contents(logid)).toBe(expected);
    const streams = await handle.db.selectFrom('logchunks').select('stream').execute();
    expect(new Set(streams.map((c) => c.stream))).toEqual(new Set(['o', null]));
    expect((await data.logs.get(logid))?.num_lines).toBe(expected.split('\n').length - 1);
  });

  it('redacts from the first secret on, bytes and text alike', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    const secrets: string[] = [];
    const redactor = {
      get isEmpty() {
        return secrets.length === 0;
      },
      redact: (text: string) => secrets.reduce((out, s) => out.replaceAll(s, '<pw>'), text),
    };
    const writer = new LogWriter(data, logid, 'stdio', 's', { redactor });
    writer.addStdout(Buffer.from('hunter2 before\n'));
    secrets.push('hunter2');
    writer.addStdout(Buffer.from('hunter2 after\n'));
    writer.addStderr('text hunter2\n');
    await writer.finish();
    expect(await data.logs.contents(logid)).toBe('ohunter2 before\no<pw> after\netext <pw>\n');
  });

  it('counts short lines and long ones in one chunk', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(data, logid, 'stdio', 's');
    // 64 lines of 2 bytes switch the count to a byte loop; a long line and more short follow.
    const text = `${'y\n'.repeat(100)}${'z'.repeat(5000)}\n${'\n'.repeat(30)}${'w\n'.repeat(7)}`;
    writer.addStdout(Buffer.from(text));
    await writer.finish();
    expect(writer.numLines).toBe(138);
    expect(await data.logs.get(logid)).toMatchObject({ num_lines: 138 });
    expect(await data.logs.contents(logid, 100, 101)).toBe(`o${'z'.repeat(5000)}\no\n`);
  });

  it('reads chunks stored gzip-compressed and prefixed, as before decision 0021', async () => {
    const logid = await data.logs.add(stepid, 'stdio', 's');
    const old = 'hcmd\n' + 'oline\n'.repeat(100) + 'eoops\n';
    await handle.db
      .insertInto('logchunks')
      .values({ logid, first_line: 0, last_line: 101, content: gzipSync(old), compressed: 1 })
      .execute();
    await handle.db.updateTable('logs').set({ num_lines: 102 }).where('id', '=', logid).execute();
    const writer = new LogWriter(data, logid, 'stdio', 's');
    writer.numLines = 102;
    writer.addStdout(Buffer.from('new\n'));
    await writer.finish();
    expect(await data.logs.contents(logid)).toBe(`${old}onew\n`);
    expect(await data.logs.contents(logid, 100, 102)).toBe('oline\neoops\nonew\n');
    let raw = '';
    for await (const piece of data.logs.raw(logid, 's')) raw += piece;
    expect(raw).toBe(`cmd\n${'line\n'.repeat(100)}oops\nnew\n`);
  });
});
