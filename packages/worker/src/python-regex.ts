/**
 * Translate a Python `re` pattern (the master's `newline_re`) into a JavaScript RegExp with
 * the same meaning for the constructs such patterns use:
 * - octal escapes (`\033`, `\0`) become `\xNN`/`\u{…}` (JS rejects them in unicode mode);
 * - `.` outside a class becomes `[^\n]` (Python's `.` matches '\r', JS's does not);
 * - `(?P<name>…)` / `(?P=name)` become `(?<name>…)` / `\k<name>`;
 * - `\Z` becomes `$(?![\s\S])` and `\A` becomes `^` (no multiline flag is used).
 * Everything else is passed through; a pattern JS still cannot compile throws SyntaxError.
 */
export function pythonRegexToJs(pattern: string, flags = 'g'): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '\\') {
      const next = pattern.charAt(i + 1);
      const octal = /^(0[0-7]{0,2}|[0-3][0-7]{2})/.exec(pattern.slice(i + 1));
      if (octal) {
        const value = parseInt(octal[0], 8);
        out += `\\x${value.toString(16).padStart(2, '0')}`;
        i += octal[0].length;
        continue;
      }
      if (!inClass && next === 'Z') {
        out += '$(?![\\s\\S])';
        i += 1;
        continue;
      }
      if (!inClass && next === 'A') {
        out += '^';
        i += 1;
        continue;
      }
      out += char + next;
      i += 1;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      out += char;
      continue;
    }
    if (char === '[') {
      inClass = true;
      out += char;
      // A ']' right after '[' or '[^' is a literal in Python.
      if (pattern.charAt(i + 1) === '^') {
        out += '^';
        i += 1;
      }
      if (pattern.charAt(i + 1) === ']') {
        out += '\\]';
        i += 1;
      }
      continue;
    }
    if (char === '.') {
      out += '[^\\n]';
      continue;
    }
    if (pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (pattern.startsWith('(?P=', i)) {
      const end = pattern.indexOf(')', i);
      if (end > 0) {
        out += `\\k<${pattern.slice(i + 4, end)}>`;
        i = end;
        continue;
      }
    }
    out += char;
  }
  return new RegExp(out, flags);
}
