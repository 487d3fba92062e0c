/**
 * Fastify's schema compilers (Ajv for validation, fast-json-stringify for serialization),
 * loaded on first use instead of when the server is created.
 *
 * Fastify requires `@fastify/ajv-compiler` and `@fastify/fast-json-stringify-compiler` (and
 * with them Ajv, ajv-formats and a second Ajv: ~250 modules, ~2 MB of V8 heap) as soon as an
 * instance is created, although only a route with a `schema` ever calls them, and no route of
 * ours declares one. Handing Fastify these factories defers the require to the first
 * schema compiled; until then neither package is loaded (docs/decisions/0018).
 *
 * Fastify treats any factory passed in `compilersFactory` as "custom", which changes one
 * thing: a `headers` schema is passed to the validator as written, without lower-casing its
 * keys first. None of our routes has one; a route that adds one must write lower-case keys.
 *
 * State: each pool of compilers is made once per process, on its first call, and then
 * shared by every server of the process (Fastify's default makes one per server; the pools
 * key their compilers by schemas and options, so sharing changes nothing).
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
/** What both packages export: a function that makes a pool of compilers. */
type Selector = () => (externalSchemas: unknown, options: unknown) => unknown;

// Resolve the compilers as Fastify does, from Fastify's own location.
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** A factory that requires `specifier` and makes its pool on first call. */
function lazyFactory(specifier: string): (externalSchemas: unknown, options: unknown) => unknown {
  let pool: ReturnType<Selector> | undefined;
  return (externalSchemas, options) => {
    pool ??= (fromFastify(specifier) as Selector)();
    return pool(externalSchemas, options);
  };
}

/** Fastify's `schemaController` option: its default compilers, loaded when first needed. */
export const lazySchemaController: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: {
    buildValidator: lazyFactory('@fastify/ajv-compiler') as CompilersFactory['buildValidator'],
    buildSerializer: lazyFactory(
      '@fastify/fast-json-stringify-compiler',
    ) as CompilersFactory['buildSerializer'],
  },
};
