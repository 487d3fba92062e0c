import { describe, expect, it } from 'vitest';
import { changeFilterSchema } from '../config/schema.js';
import { filterChange, globToRegExp, isImportant, type FilterableChange } from './change-filter.js';

const change = (overrides: Partial<FilterableChange> = {}): FilterableChange => ({
  branch: 'main',
  project: 'app',
  repository: 'https://example.invalid/app.git',
  category: null,
  codebase: '',
  files: ['src/a.ts'],
  properties: {},
  ...overrides,
});
const filter = (input: Record<string, unknown>) => changeFilterSchema.parse(input);

describe('change filters', () => {
  it('matches values, lists, negations and regular expressions from the start', () => {
    expect(filterChange(filter({ branch: 'main' }), change())).toBe(true);
    expect(filterChange(filter({ branch: ['dev', 'main'] }), change())).toBe(true);
    expect(filterChange(filter({ branch: 'dev' }), change())).toBe(false);
    expect(filterChange(filter({ branch: null }), change({ branch: null }))).toBe(true);
    expect(filterChange(filter({ branchNotEq: 'main' }), change())).toBe(false);
    expect(filterChange(filter({ branchRe: 'rel' }), change({ branch: 'release/1' }))).toBe(true);
    expect(filterChange(filter({ branchRe: 'lease' }), change({ branch: 'release/1' }))).toBe(
      false,
    );
    expect(
      filterChange(filter({ branchNotRe: '^feature/' }), change({ branch: 'feature/x' })),
    ).toBe(false);
    expect(filterChange(filter({ branchRe: '.*' }), change({ branch: null }))).toBe(false);
    expect(filterChange(filter({ project: 'app', codebase: '' }), change())).toBe(true);
    expect(filterChange(filter({ category: 'tag' }), change())).toBe(false);
  });

  it('matches change properties by value and by text', () => {
    const pushed = change({ properties: { event: ['push', 'Change'], n: [3, 'Change'] } });
    expect(filterChange(filter({ propertyEq: { event: 'push' } }), pushed)).toBe(true);
    expect(filterChange(filter({ propertyEq: { event: ['pull', 'push'] } }), pushed)).toBe(true);
    expect(filterChange(filter({ propertyNotEq: { event: 'push' } }), pushed)).toBe(false);
    expect(filterChange(filter({ propertyEq: { n: 3 } }), pushed)).toBe(true);
    expect(filterChange(filter({ propertyRe: { event: '^pu' } }), pushed)).toBe(true);
    expect(filterChange(filter({ propertyEq: { missing: '' } }), pushed)).toBe(true);
  });

  it('refuses bad regular expressions and unknown keys', () => {
    expect(changeFilterSchema.safeParse({ branchRe: '(' }).success).toBe(false);
    expect(changeFilterSchema.safeParse({ brnach: 'main' }).success).toBe(false);
  });
});

describe('fileIsImportant', () => {
  it('reads globs: * in a segment, ** across, ? one character, {a,b}', () => {
    expect(globToRegExp('src/**').test('src/a/b.ts')).toBe(true);
    expect(globToRegExp('src/*.ts').test('src/a/b.ts')).toBe(false);
    expect(globToRegExp('**/*.md').test('README.md')).toBe(true);
    expect(globToRegExp('**/*.md').test('docs/x/y.md')).toBe(true);
    expect(globToRegExp('a?.txt').test('ab.txt')).toBe(true);
    expect(globToRegExp('{src,lib}/**').test('lib/x.js')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('is important when a file matches files and not notFiles; no files: important', () => {
    const rule = { files: ['src/**'], notFiles: ['**/*.md'] };
    expect(isImportant(rule, change({ files: ['src/a.ts'] }))).toBe(true);
    expect(isImportant(rule, change({ files: ['docs/a.ts'] }))).toBe(false);
    expect(isImportant(rule, change({ files: ['src/README.md'] }))).toBe(false);
    expect(isImportant(rule, change({ files: ['src/README.md', 'src/b.ts'] }))).toBe(true);
    expect(isImportant({ files: [], notFiles: ['**/*.md'] }, change({ files: ['a.md'] }))).toBe(
      false,
    );
    expect(isImportant(rule, change({ files: [] }))).toBe(true);
    expect(isImportant(null, change({ files: ['x'] }))).toBe(true);
  });
});
