// ESLint flat config for the whole repository (`npm run lint` = eslint + prettier --check).
// See docs/decisions/0001-build-and-test-tooling.md for why each rule is here.
//
// Type-aware: the project service finds each file's tsconfig (packages/*/tsconfig.json for
// sources, the root tsconfig.json for tests, which the package builds exclude). Lint after
// `npm run build`: cross-package imports resolve to the built declarations in dist/.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;
const packages = ['protocol', 'worker', 'testkit', 'www', 'master'];
const testFiles = ['**/*.test.ts', '**/*.contract.ts', '**/test/**/*.ts'];

/** `no-restricted-imports` entry forbidding our packages except those in `allowed`. */
function onlyOurPackages(allowed, message) {
  return {
    group: ['@yardmaster/*', ...allowed.map((name) => `!@yardmaster/${name}`)],
    message,
  };
}

export default defineConfig(
  globalIgnores([
    '**/dist/**',
    '**/node_modules/**',
    '**/coverage/**',
    '**/.yardmaster/**',
    '**/test-artifacts/**',
    '**/.vite/**',
  ]),

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,

  {
    name: 'yardmaster/typescript',
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Let import-x parse TypeScript dependencies (no-cycle follows them).
      'import-x/extensions': ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx', '.mts', '.cts'] },
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      // Resolve `./x.js` to `./x.ts` the way NodeNext + TypeScript do.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.tsx', '.js'], '.mjs': ['.mts', '.mjs'] },
          conditionNames: ['types', 'import', 'node', 'default'],
        }),
      ],
    },
    rules: {
      // Promises: an unawaited or misplaced promise is an unhandled rejection waiting to happen.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      // `async` without `await` is normal for Fastify handlers and for implementations of
      // Promise-returning interfaces (bus, data API); the promise rules above catch the bugs.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // DESIGN §6: `as const` objects instead of `enum`.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSEnumDeclaration',
          message: 'Use an `as const` object and a union type instead of an enum (DESIGN §6).',
        },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      // Packages import each other by name, never by a relative path into another package.
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: root,
          zones: [
            ...packages.map((name) => ({
              target: `./packages/${name}`,
              from: packages
                .filter((other) => other !== name)
                .map((other) => `./packages/${other}/src`),
              message: `Import another package by its name (@yardmaster/…), not by a relative path.`,
            })),
            {
              target: './packages/master/src/api',
              from: ['./packages/master/src/db', './packages/master/src/mq'],
              message: 'api/ reads and writes only through data/ (DESIGN §2).',
            },
          ],
        },
      ],
    },
  },

  // A package may only import what its own package.json lists (the worker must install
  // without the master's dependencies); its tests may also use the root devDependencies.
  ...packages.map((name) => ({
    name: `yardmaster/${name}-dependencies`,
    files: [`packages/${name}/**/*.ts`, `packages/${name}/**/*.tsx`],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        {
          packageDir: [`${root}/packages/${name}`, root],
          // testkit is test-only; www is bundled by Vite, so all its dependencies are dev.
          devDependencies: name === 'testkit' || name === 'www' ? true : testFiles,
          whitelist: ['@yardmaster/testkit'],
        },
      ],
    },
  })),
  {
    name: 'yardmaster/boundaries/protocol',
    files: ['packages/protocol/src/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [onlyOurPackages([], 'protocol imports nothing of ours (DESIGN §2).')] },
      ],
    },
  },
  {
    name: 'yardmaster/boundaries/worker',
    files: ['packages/worker/src/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            onlyOurPackages(['protocol'], 'worker imports only @yardmaster/protocol (DESIGN §2).'),
          ],
        },
      ],
    },
  },
  {
    // The web UI talks to the master only over HTTP; it shares no code with it.
    name: 'yardmaster/boundaries/www',
    files: ['packages/www/**/*.ts', 'packages/www/**/*.tsx'],
    ignores: testFiles,
    languageOptions: { globals: { window: 'readonly', document: 'readonly' } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [onlyOurPackages([], 'the web UI talks only HTTP to the master (DESIGN §2).')],
        },
      ],
    },
  },
  {
    name: 'yardmaster/boundaries/master',
    files: ['packages/master/src/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            onlyOurPackages(
              ['protocol', 'worker'],
              'master ships without testkit; only tests may import it.',
            ),
          ],
        },
      ],
    },
  },
  {
    name: 'yardmaster/boundaries/master-api',
    files: ['packages/master/src/api/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            onlyOurPackages(
              ['protocol', 'worker'],
              'master ships without testkit; only tests may import it.',
            ),
            {
              // Backs up import-x/no-restricted-paths when a path does not resolve.
              regex: '^(\\.\\./)+(db|mq)(/|$)',
              message: 'api/ reads and writes only through data/ (DESIGN §2).',
            },
          ],
        },
      ],
    },
  },

  // Tests: assertions on untyped JSON and mocks are normal here; expect() checks them.
  {
    name: 'yardmaster/tests',
    files: testFiles,
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },

  // Plain JavaScript (this file, bin shims): no type information.
  {
    name: 'yardmaster/javascript',
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      'import-x/no-cycle': 'off',
      'import-x/no-restricted-paths': 'off',
    },
  },
);
