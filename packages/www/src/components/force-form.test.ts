import { describe, expect, it } from 'vitest';
import type { ForceField } from '../api/types.js';
import { leafFields } from './force-form.js';

function field(partial: Partial<ForceField> & { name: string; type: string }): ForceField {
  return { fullName: partial.name, label: partial.name, default: '', required: false, ...partial };
}

describe('leafFields', () => {
  it("walks Buildbot's nested groups and keeps the fields that take a value", () => {
    const all: ForceField[] = [
      field({
        name: '',
        type: 'nested',
        fields: [
          field({ name: 'username', type: 'text' }),
          field({ name: 'reason', type: 'text' }),
        ],
      }),
      field({
        name: 'lib',
        type: 'nested',
        fields: [
          field({ name: 'branch', fullName: 'lib_branch', type: 'text' }),
          field({ name: 'project', fullName: 'lib_project', type: 'fixed', default: 'p' }),
          field({ name: 'repository', fullName: 'lib_repository', type: 'text', hide: true }),
        ],
      }),
      field({ name: 'repeat', type: 'int', default: 2 }),
    ];
    expect(leafFields(all).map((f) => f.fullName)).toEqual([
      'username',
      'reason',
      'lib_branch',
      'repeat',
    ]);
  });
});
