import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  SecretNotFoundError,
  SecretRedactor,
  createSecretsProvider,
  envSecretsProvider,
  fileSecretsProvider,
} from './secrets.js';

describe('secrets providers', () => {
  it('env reads PREFIX+NAME and says which variable is missing', () => {
    const provider = envSecretsProvider('CI_', { CI_token: 's3cret' });
    expect(provider.get('token')).toBe('s3cret');
    expect(() => provider.get('other')).toThrow('environment variable CI_other is not set');
  });

  it('files reads dir/NAME without its trailing newline, and refuses odd names', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ym-secrets-'));
    writeFileSync(path.join(dir, 'token'), 'abc\n');
    const provider = fileSecretsProvider(dir);
    expect(provider.get('token')).toBe('abc');
    expect(() => provider.get('missing')).toThrow(SecretNotFoundError);
    expect(() => provider.get('..')).toThrow('not a valid secret name');
    // A relative dir is relative to the master's basedir.
    expect(
      createSecretsProvider({ provider: 'files', dir: path.basename(dir) }, tmpdir()).get('token'),
    ).toBe('abc');
  });

  it('no provider: a lookup fails with the way forward', () => {
    expect(() => createSecretsProvider(null, '.').get('x')).toThrow(
      'no secrets provider is configured',
    );
  });
});

describe('SecretRedactor', () => {
  it('replaces every value it handed out with <NAME>, longest first, in text and values', () => {
    const redactor = new SecretRedactor(
      envSecretsProvider('', { short: 'pass', long: 'password1' }),
    );
    expect(redactor.isEmpty).toBe(true);
    expect(redactor.get('short')).toBe('pass');
    expect(redactor.get('long')).toBe('password1');
    expect(redactor.redact('login pass and password1!')).toBe('login <short> and <long>!');
    expect(redactor.redactValue({ a: ['x password1 y', 3], b: null })).toEqual({
      a: ['x <long> y', 3],
      b: null,
    });
  });

  it('hides each line of a multi-line secret, and never the empty string', () => {
    const redactor = new SecretRedactor(envSecretsProvider('', {}));
    redactor.remember('key', 'line-one\nline-two');
    redactor.remember('empty', '');
    expect(redactor.redact('a line-two b\n')).toBe('a <key> b\n');
    expect(redactor.redact('unchanged')).toBe('unchanged');
  });
});
