import { describe, expect, it } from 'vitest';

import { parseInterpolation, type InterpolationPart } from './interpolate.js';

function parts(format: string): InterpolationPart[] {
  const parsed = parseInterpolation(format);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.parts;
}

function error(format: string): string {
  const parsed = parseInterpolation(format);
  if (parsed.ok) throw new Error(`expected ${format} to be invalid`);
  return parsed.error;
}

describe('parseInterpolation', () => {
  it('keeps plain text and turns %% into %', () => {
    expect(parts('make -j4')).toEqual([{ kind: 'text', text: 'make -j4' }]);
    expect(parts('100%% done')).toEqual([{ kind: 'text', text: '100% done' }]);
    expect(parts('')).toEqual([]);
  });

  it('parses a property: missing or null renders empty (Buildbot\'s implicit ":-")', () => {
    expect(parts('yes %(prop:log_line)s | head')).toEqual([
      { kind: 'text', text: 'yes ' },
      {
        kind: 'lookup',
        source: { selector: 'prop', name: 'log_line' },
        falsyIsMissing: false,
        ifPresent: null,
        ifMissing: [],
      },
      { kind: 'text', text: ' | head' },
    ]);
  });

  it('parses defaults, replacements and ternaries, with nested substitutions', () => {
    expect(parts('%(prop:a:-x:y)s')[0]).toMatchObject({
      falsyIsMissing: false,
      ifPresent: null,
      ifMissing: [{ kind: 'text', text: 'x:y' }],
    });
    expect(parts('%(prop:a:~%(prop:b)s)s')[0]).toMatchObject({
      falsyIsMissing: true,
      ifMissing: [{ kind: 'lookup', source: { selector: 'prop', name: 'b' } }],
    });
    expect(parts('%(prop:a:+--flag)s')[0]).toMatchObject({
      ifPresent: [{ kind: 'text', text: '--flag' }],
      ifMissing: [],
    });
    expect(parts('%(prop:a:?|yes|no)s')[0]).toMatchObject({
      falsyIsMissing: false,
      ifPresent: [{ kind: 'text', text: 'yes' }],
      ifMissing: [{ kind: 'text', text: 'no' }],
    });
    expect(parts('%(prop:a:#?:(a:b):no)s')[0]).toMatchObject({
      falsyIsMissing: true,
      ifPresent: [{ kind: 'text', text: '(a:b)' }],
      ifMissing: [{ kind: 'text', text: 'no' }],
    });
  });

  it('parses source stamp attributes, with the default codebase or a named one', () => {
    expect(parts('%(src::branch)s')[0]).toMatchObject({
      source: { selector: 'src', codebase: '', attribute: 'branch' },
    });
    expect(parts('%(src:app:revision:-HEAD)s')[0]).toMatchObject({
      source: { selector: 'src', codebase: 'app', attribute: 'revision' },
      ifMissing: [{ kind: 'text', text: 'HEAD' }],
    });
  });

  it('explains bad formats', () => {
    expect(error('50%')).toBe(
      '"%" must start "%%" or a substitution such as "%(prop:name)s", got the end of the text at offset 2',
    );
    expect(error('%d')).toContain('got "%d" at offset 0');
    expect(error('yes %(prop:x')).toBe('"%(" at offset 4 has no closing ")"');
    expect(error('%(prop:x)')).toBe('"%(prop:x)" must be followed by "s", as in "%(prop:x)s"');
    expect(error('%(prop:x)d')).toContain('must be followed by "s"');
    expect(error('%(x)s')).toBe(
      'substitution "%(x)s" has no selector: use prop:NAME, src:CODEBASE:ATTRIBUTE, worker:KEY or secret:NAME',
    );
    expect(error('%(kw:x)s')).toContain('unknown selector "kw"');
    expect(error('%(prop:a b)s')).toContain('property name "a b"');
    expect(error('%(prop:)s')).toContain('property name ""');
    expect(error('%(src:branch)s')).toContain('needs a codebase and an attribute');
    expect(error('%(src::author)s')).toBe(
      'unknown source stamp attribute "author" in "%(src::author)s" (known: branch, revision, repository)',
    );
    expect(error('%(prop:x:*y)s')).toContain(
      'after the name comes ":-", ":~", ":+", ":?" or ":#?"',
    );
    expect(error('%(prop:x:?|a)s')).toContain('a ternary needs a delimiter and two texts');
    expect(error('%(prop:x:?(a)(b))s')).toContain('"(" cannot be a ternary delimiter');
    expect(error('%(prop:x:-50%)s')).toContain('got the end of the text');
  });
});
