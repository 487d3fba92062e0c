import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { lazySchemaController } from './schema-compilers.js';

// Where Fastify's default compilers live, resolved as schema-compilers.ts resolves them.
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const ajvCompiler = fromFastify.resolve('@fastify/ajv-compiler');
const serializerCompiler = fromFastify.resolve('@fastify/fast-json-stringify-compiler');
const loaded = (file: string): boolean => file in fromFastify.cache;

describe('lazySchemaController', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  // Order matters: this file runs in a process of its own, and the first test checks that
  // nothing has loaded the compilers before a route needs them.
  it('serves routes without schemas without loading Ajv or fast-json-stringify', async () => {
    expect(loaded(ajvCompiler)).toBe(false);
    const app = Fastify({ schemaController: lazySchemaController });
    apps.push(app);
    app.get('/plain', () => ({ ok: true }));
    app.post('/echo', (request) => request.body);
    const plain = await app.inject({ method: 'GET', url: '/plain' });
    const echo = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });

    expect([plain.statusCode, plain.json()]).toEqual([200, { ok: true }]);
    expect([echo.statusCode, echo.json()]).toEqual([200, { a: 1 }]);
    expect(missing.statusCode).toBe(404);
    expect(loaded(ajvCompiler)).toBe(false);
    expect(loaded(serializerCompiler)).toBe(false);
  });

  it('loads them for the first route with a schema, which then validates and serializes', async () => {
    const app = Fastify({ schemaController: lazySchemaController });
    apps.push(app);
    app.post(
      '/typed',
      {
        schema: {
          body: {
            type: 'object',
            required: ['n'],
            properties: { n: { type: 'integer' } },
          },
          response: {
            200: { type: 'object', properties: { n: { type: 'integer' } } },
          },
        },
      },
      (request) => ({ ...(request.body as object), secret: 'not in the schema' }),
    );
    const good = await app.inject({ method: 'POST', url: '/typed', payload: { n: 3 } });
    const bad = await app.inject({ method: 'POST', url: '/typed', payload: { n: 'x' } });

    expect([good.statusCode, good.json()]).toEqual([200, { n: 3 }]);
    expect(bad.statusCode).toBe(400);
    expect(loaded(ajvCompiler)).toBe(true);
    expect(loaded(serializerCompiler)).toBe(true);
  });
});
