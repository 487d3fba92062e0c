/**
 * Secrets: where `%(secret:NAME)s` is read from, and how a secret's value is kept out of
 * everything a build stores (DESIGN §3).
 *
 * A `SecretsProvider` reads a secret at the point of use, every time (a rotated file or
 * variable is seen by the next step), so no value is cached in the master. A
 * `SecretRedactor` belongs to one build (or one reporter send): every value looked up
 * through it is remembered, and `redact` replaces each remembered value with `<NAME>`
 * (Buildbot's `Properties.cleanupTextFromSecrets`) in log lines, properties and state
 * strings before they are written. Invariant: a value is registered before it is handed
 * to anything that could echo it (the worker, a child process, an HTTP request).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SecretsConfig } from '../config/types.js';
import { YardmasterError } from '../errors.js';

export class SecretNotFoundError extends YardmasterError {
  constructor(name: string, detail: string) {
    super('secret_not_found', `secret "${name}" not found: ${detail}`);
  }
}

export interface SecretsProvider {
  /** The secret's value; throws `SecretNotFoundError` (saying where it looked) when missing. */
  get(name: string): string;
}

/** No provider configured: every lookup fails with a way forward. */
const NO_PROVIDER: SecretsProvider = {
  get(name) {
    throw new SecretNotFoundError(
      name,
      'no secrets provider is configured; add secrets: { provider: "env" } or { provider: "files", dir } to the config',
    );
  },
};

/** `{ provider: 'env', prefix }` reads `${prefix}NAME` from `environment` (the process's). */
export function envSecretsProvider(
  prefix: string,
  environment: NodeJS.ProcessEnv = process.env,
): SecretsProvider {
  return {
    get(name) {
      const value = environment[`${prefix}${name}`];
      if (value === undefined) {
        throw new SecretNotFoundError(name, `environment variable ${prefix}${name} is not set`);
      }
      return value;
    },
  };
}

/**
 * `{ provider: 'files', dir }`: the file `dir/NAME`, without its trailing newline (as
 * Buildbot's `SecretInAFile` with `strip=True`). Names are identifiers, so a name never
 * leaves the directory.
 */
export function fileSecretsProvider(dir: string): SecretsProvider {
  return {
    get(name) {
      if (!/^[\p{L}\p{N}_.-]+$/u.test(name) || name === '.' || name === '..') {
        throw new SecretNotFoundError(name, 'not a valid secret name');
      }
      const file = path.join(dir, name);
      try {
        return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new SecretNotFoundError(name, `cannot read ${file} (${code})`);
      }
    },
  };
}

/** The provider a config asks for; a `files` dir is relative to the master's basedir. */
export function createSecretsProvider(
  config: SecretsConfig | null,
  basedir: string,
): SecretsProvider {
  if (config === null) return NO_PROVIDER;
  if (config.provider === 'env') return envSecretsProvider(config.prefix);
  return fileSecretsProvider(path.resolve(basedir, config.dir));
}

/**
 * The secrets one build (or one report) used, and their removal from text. Longer values
 * are replaced first, so a secret containing another is not half-replaced.
 */
export class SecretRedactor {
  private readonly values = new Map<string, string>();
  private ordered: [string, string][] = [];

  constructor(private readonly provider: SecretsProvider) {}

  /** Looks the secret up and remembers its value for redaction. */
  get(name: string): string {
    const value = this.provider.get(name);
    this.remember(name, value);
    return value;
  }

  remember(name: string, value: string): void {
    if (value === '' || this.values.has(value)) return;
    this.values.set(value, name);
    // A multi-line secret may be cut into lines by the worker: each line is hidden too.
    for (const line of value.split(/\r?\n/)) {
      if (line.trim() !== '' && !this.values.has(line)) this.values.set(line, name);
    }
    this.ordered = [...this.values.entries()].sort((a, b) => b[0].length - a[0].length);
  }

  get isEmpty(): boolean {
    return this.values.size === 0;
  }

  /** `text` with every remembered value replaced by `<NAME>`. */
  redact(text: string): string {
    let out = text;
    for (const [value, name] of this.ordered) {
      if (out.includes(value)) out = out.split(value).join(`<${name}>`);
    }
    return out;
  }

  /** A property value with every string inside it redacted (lists and objects too). */
  redactValue(value: unknown): unknown {
    if (this.isEmpty) return value;
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((item) => this.redactValue(item));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, this.redactValue(item)]),
      );
    }
    return value;
  }
}
