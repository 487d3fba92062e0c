import { describe, expect, it } from 'vitest';

import { interpolate, renderer } from '../config/factories.js';
import {
  renderBooleanAsync,
  renderCommand,
  renderCommandAsync,
  renderEnv,
  renderString,
  renderStringAsync,
  renderValueAsync,
  type RenderContext,
} from './renderables.js';

function context(
  properties: Record<string, unknown>,
  sourcestamp: RenderContext['sourcestamp'] = null,
): RenderContext {
  return { getProperty: (name) => properties[name], sourcestamp };
}

const render = (format: string, ctx: RenderContext) => renderString(interpolate(format), ctx);

describe('renderString', () => {
  it('leaves plain strings alone, even with % in them', () => {
    expect(renderString('100% %(prop:x)s', context({ x: 1 }))).toBe('100% %(prop:x)s');
  });

  it('renders the bench logs command from force properties', () => {
    const ctx = context({ log_line: 'yyy', log_bytes: '20000000' });
    expect(render('yes %(prop:log_line)s | head -c %(prop:log_bytes)s', ctx)).toBe(
      'yes yyy | head -c 20000000',
    );
  });

  it('renders values as Buildbot (Python str) does; missing and null as ""', () => {
    const ctx = context({ n: 3, f: 1.5, t: true, no: false, list: ['a'], nil: null });
    expect(render('%(prop:n)s %(prop:f)s %(prop:t)s %(prop:no)s', ctx)).toBe('3 1.5 True False');
    expect(render('[%(prop:list)s][%(prop:nil)s][%(prop:missing)s]', ctx)).toBe('[["a"]][][]');
    expect(render('100%%', ctx)).toBe('100%');
  });

  it(':- uses the default only when the property is missing', () => {
    const ctx = context({ empty: '', zero: 0, set: 'v', nil: null });
    expect(render('%(prop:missing:-d)s', ctx)).toBe('d');
    expect(render('%(prop:empty:-d)s|%(prop:zero:-d)s', ctx)).toBe('|0');
    expect(render('%(prop:set:-d)s', ctx)).toBe('v');
    expect(render('[%(prop:nil:-d)s]', ctx)).toBe('[]');
  });

  it(':~ also uses the default for falsy values', () => {
    const ctx = context({ empty: '', zero: 0, no: false, list: [], set: 'v' });
    expect(render('%(prop:empty:~d)s %(prop:zero:~d)s %(prop:no:~d)s %(prop:list:~d)s', ctx)).toBe(
      'd d d d',
    );
    expect(render('%(prop:set:~d)s %(prop:missing:~d)s', ctx)).toBe('v d');
  });

  it(':+ gives the replacement when the property is set (even falsy), else ""', () => {
    const ctx = context({ clean: false, jobs: 4 });
    expect(render('make%(prop:clean:+ clean)s%(prop:other:+ other)s', ctx)).toBe('make clean');
    expect(render('make %(prop:jobs:+-j%(prop:jobs)s)s', ctx)).toBe('make -j4');
  });

  it('ternaries choose on presence (?) or truthiness (#?)', () => {
    const ctx = context({ no: false, yes: 'y' });
    expect(render('%(prop:no:?|set|unset)s %(prop:missing:?|set|unset)s', ctx)).toBe('set unset');
    expect(render('%(prop:no:#?|true|false)s %(prop:yes:#?|true|false)s', ctx)).toBe('false true');
  });

  it('reads the first source stamp for the default codebase (or its own)', () => {
    const stamp = { branch: 'main', revision: null, repository: 'https://example.com/app.git' };
    const ctx = context({ codebase: '' }, stamp);
    expect(render('%(src::branch)s@%(src::revision:-HEAD)s %(src::repository)s', ctx)).toBe(
      'main@ https://example.com/app.git',
    );
    expect(render('%(src::revision:~HEAD)s', ctx)).toBe('HEAD');
    expect(render('%(src:other:branch:-none)s', ctx)).toBe('none');
    const named = context({ codebase: 'app' }, stamp);
    expect(render('%(src:app:branch)s %(src::branch:-none)s', named)).toBe('main none');
    expect(render('%(src::branch:-no stamp)s', context({}))).toBe('no stamp');
  });

  it('renders commands, list elements and env values', () => {
    const ctx = context({ target: 'all' });
    expect(renderCommand(['make', interpolate('%(prop:target)s')], ctx)).toEqual(['make', 'all']);
    expect(renderCommand(interpolate('make %(prop:target)s'), ctx)).toBe('make all');
    expect(renderEnv({ A: 'a', T: interpolate('%(prop:target)s') }, ctx)).toEqual({
      A: 'a',
      T: 'all',
    });
  });

  it('throws on a format that was never validated', () => {
    expect(() => render('%(nope)s', context({}))).toThrow(/has no selector/);
  });
});

describe('worker:, secret: and renderer(fn)', () => {
  const full = (properties: Record<string, unknown>): RenderContext => {
    const used: string[] = [];
    return {
      getProperty: (name) => properties[name],
      sourcestamp: null,
      workerInfo: { os_id: 'debian', numcpus: 4 },
      getSecret: (name) => {
        if (name !== 'token') throw new Error(`secret "${name}" not found`);
        used.push(name);
        return 's3cret';
      },
      allProperties: () => properties,
    };
  };

  it('%(worker:KEY)s reads the worker info, with defaults like any lookup', () => {
    const ctx = full({});
    expect(render('%(worker:os_id)s/%(worker:numcpus)s', ctx)).toBe('debian/4');
    expect(render('%(worker:missing:-none)s', ctx)).toBe('none');
  });

  it('%(secret:NAME)s asks the context, and fails where secrets are unknown', () => {
    expect(render('token=%(secret:token)s', full({}))).toBe('token=s3cret');
    expect(() => render('%(secret:other)s', full({}))).toThrow('secret "other" not found');
    expect(() => render('%(secret:token)s', context({}))).toThrow('secrets are rendered only');
  });

  it('renderer(fn) gets the properties; results render as Python str()', async () => {
    const ctx = full({ jobs: 4, branch: 'main' });
    const jobs = renderer((props) => `-j${String(props.getProperty('jobs'))}`);
    await expect(renderStringAsync(jobs, ctx)).resolves.toBe('-j4');
    await expect(
      renderCommandAsync(
        renderer((props) => ['make', String(props.getProperty('branch'))]),
        ctx,
      ),
    ).resolves.toEqual(['make', 'main']);
    await expect(
      renderCommandAsync(['make', renderer(async () => Promise.resolve(true))], ctx),
    ).resolves.toEqual(['make', 'True']);
    await expect(
      renderValueAsync(
        renderer((props) => ({ n: props.properties.jobs })),
        ctx,
      ),
    ).resolves.toEqual({ n: 4 });
    await expect(renderValueAsync(interpolate('%(prop:jobs)s'), ctx)).resolves.toBe('4');
    await expect(renderValueAsync([1, 2], ctx)).resolves.toEqual([1, 2]);
    expect(() => renderString(jobs, ctx)).toThrow('asynchronously');
  });

  it('booleans: a renderer result counts by Python truthiness, extra arguments pass through', async () => {
    const ctx = full({ deploy: '' });
    await expect(renderBooleanAsync(true, ctx)).resolves.toBe(true);
    const deploy = renderer((props) => props.getProperty('deploy'));
    await expect(renderBooleanAsync(deploy, ctx)).resolves.toBe(false);
    await expect(
      renderBooleanAsync(
        renderer((_props: unknown, results: unknown) => results === 2),
        ctx,
        2,
      ),
    ).resolves.toBe(true);
  });

  it('the sync API still renders interpolate()', () => {
    expect(renderCommand(['a', interpolate('%(prop:x)s')], context({ x: 1 }))).toEqual(['a', '1']);
    expect(renderEnv({ A: interpolate('%(prop:x)s') }, context({ x: 2 }))).toEqual({ A: '2' });
  });
});
