import { describe, expect, it } from 'vitest';
import {
  pythonBytesRepr,
  pythonRepr,
  pythonStrRepr,
  shellQuote,
  systemErrorInfo,
} from './python-format.js';
import { pythonRegexToJs } from './python-regex.js';

describe('Python reprs (header lines)', () => {
  it('formats bytes like Python', () => {
    expect(pythonBytesRepr('true')).toBe("b'true'");
    expect(pythonBytesRepr("it's")).toBe(`b"it's"`);
    expect(pythonBytesRepr(`'"`)).toBe(`b'\\'"'`);
    expect(pythonBytesRepr('tab\tnl\n\\é')).toBe("b'tab\\tnl\\n\\\\\\xc3\\xa9'");
  });

  it('formats str, dicts and lists like Python', () => {
    expect(pythonStrRepr('été')).toBe("'été'");
    expect(pythonRepr({})).toBe('{}');
    expect(pythonRepr({ 'test.log': 'out/test.log', x: { filename: 'f', follow: true } })).toBe(
      "{'test.log': 'out/test.log', 'x': {'filename': 'f', 'follow': True}}",
    );
    expect(pythonRepr([1, null, false, 'a'])).toBe("[1, None, False, 'a']");
  });

  it('quotes argv like pipes.quote', () => {
    expect(shellQuote(['true'])).toBe('true');
    expect(shellQuote(['echo', 'a b', '', "it's", '--x=1,2:3/4@5%6+7'])).toBe(
      `echo 'a b' "" 'it'"'"'s' --x=1,2:3/4@5%6+7`,
    );
    expect(shellQuote(['é'])).toBe("'é'");
  });

  it('maps Node error codes to errno and glibc texts', () => {
    expect(systemErrorInfo(Object.assign(new Error('x'), { code: 'ENOENT' }))).toEqual({
      errno: 2,
      strerror: 'No such file or directory',
    });
    expect(
      systemErrorInfo(
        Object.assign(new Error('EACCES: permission denied, mkdir'), { code: 'EACCES' }),
      ),
    ).toEqual({
      errno: 13,
      strerror: 'Permission denied',
    });
    expect(
      systemErrorInfo(
        Object.assign(new Error('ECONNRESET: connection reset by peer'), { code: 'ECONNRESET' }),
      ).strerror,
    ).toBe('Connection reset by peer');
  });
});

describe('pythonRegexToJs', () => {
  it('translates octal escapes, dots and named groups', () => {
    expect(pythonRegexToJs('\\033\\[2J').test('\x1b[2J')).toBe(true);
    expect(pythonRegexToJs('\\r(?=.)', '').test('\r\r')).toBe(true);
    expect(pythonRegexToJs('\\r(?=.)', '').test('\r\n')).toBe(false);
    expect(pythonRegexToJs('(?P<x>a)(?P=x)', '').test('aa')).toBe(true);
    expect(pythonRegexToJs('[.]', '').test('x')).toBe(false);
    expect(pythonRegexToJs('a\\Z', '').test('a\n')).toBe(false);
  });

  it('throws SyntaxError for patterns JavaScript cannot compile', () => {
    expect(() => pythonRegexToJs('(unclosed')).toThrow(SyntaxError);
  });
});
