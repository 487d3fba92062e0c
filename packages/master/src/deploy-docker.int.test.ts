/**
 * The images of deploy/docker, checked without a Docker engine (there is none here, and no
 * registry): each Dockerfile parses; every COPY source from the context exists and is not
 * excluded by its `<name>.Dockerfile.dockerignore`; `--from` names an earlier stage; the
 * final stage runs as a numeric non-root USER; ENTRYPOINT/CMD are exec form and their
 * script is in the image.
 *
 * Then each image's file tree is reproduced in a temp dir that stands for its root: the
 * context COPYs as written, the RUN steps emulated (each RUN must be one the test knows, so
 * a changed Dockerfile fails here until the emulation follows): `npm ci` as the Dockerfile
 * runs it plus `--offline --omit=dev` (the npm cache instead of the registry; --omit=dev in
 * place of the later `npm prune --omit=dev`), the compiled `dist/` of the repository in
 * place of `npm run build` / `tsc` (the test needs `npx tsc -b packages/master
 * packages/worker` and `npm run build -w @yardmaster/www` first), the repository's
 * better-sqlite3 binary in place of `npm rebuild better-sqlite3` (a compile or a download),
 * `rm -rf` and `mkdir -p` as written, then the final stage's `COPY --from`. The master
 * from that tree passes `checkconfig` on deploy/kubernetes' config, starts with the image's
 * ENV and CMD, serves the web UI, and runs a build on a worker started from the worker
 * image's tree. Not verified: the base images, apt-get, the users, file ownership, tini.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { copyFile, cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  freePort,
  httpJson,
  makeTempDir,
  spawnProcess,
  waitFor,
  type SpawnedProcess,
} from '@yardmaster/testkit';
import {
  copyFromContext,
  dockerignore,
  envOf,
  parseDockerfile,
  words,
  type Stage,
} from '../test/dockerfile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const IMAGES = ['master', 'worker'] as const;
type Image = (typeof IMAGES)[number];

function load(image: Image) {
  const file = path.join(ROOT, 'deploy/docker', `${image}.Dockerfile`);
  return {
    stages: parseDockerfile(readFileSync(file, 'utf8')),
    ignored: dockerignore(readFileSync(`${file}.dockerignore`, 'utf8')),
  };
}

const finalStage = (stages: Stage[]): Stage => {
  const stage = stages.at(-1);
  if (!stage) throw new Error('no stage');
  return stage;
};

/** The entrypoint + command words of the final stage, exec form. */
function commandOf(stage: Stage): string[] {
  const last = (keyword: string) =>
    stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
  const entrypoint = last('ENTRYPOINT');
  const cmd = last('CMD');
  for (const form of [entrypoint, cmd]) {
    if (form !== undefined) expect(form.startsWith('['), `exec form: ${form}`).toBe(true);
  }
  return [...(entrypoint ? words(entrypoint) : []), ...(cmd ? words(cmd) : [])];
}

describe('deploy/docker, statically', () => {
  for (const image of IMAGES) {
    it(`${image}.Dockerfile: COPY sources in the context, numeric non-root USER, exec entrypoint`, async () => {
      const { stages, ignored } = load(image);
      expect(stages.length).toBeGreaterThanOrEqual(2);
      const scratch = await makeTempDir(`docker-${image}-static`);
      const names = new Set<string>();
      for (const stage of stages) {
        let workdir = '/';
        for (const instruction of stage.instructions) {
          if (instruction.keyword === 'WORKDIR') workdir = instruction.args;
          if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') continue;
          expect(instruction.keyword, `line ${instruction.line}: ADD`).toBe('COPY');
          const args = words(instruction.args);
          const from = instruction.flags.from;
          if (from !== undefined) {
            expect(names.has(from), `line ${instruction.line}: --from=${from}`).toBe(true);
            continue;
          }
          // Throws when a source is missing or excluded by the .dockerignore.
          const copied = copyFromContext({
            context: ROOT,
            sources: args.slice(0, -1),
            dest: args.at(-1) ?? '',
            workdir,
            root: scratch,
            ignored,
          });
          expect(copied, `line ${instruction.line}: COPY ${instruction.args}`).toBeGreaterThan(0);
        }
        if (stage.name) names.add(stage.name);
      }
      const final = finalStage(stages);
      const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
      expect(user).toMatch(/^\d+(:\d+)?$/);
      expect(Number(user.split(':')[0])).toBeGreaterThan(0);
      expect(Number(user.split(':')[1] ?? 1)).toBeGreaterThan(0);
      const command = commandOf(final);
      const script = command.find((word) => word.endsWith('.js'));
      expect(script, command.join(' ')).toMatch(/^\/opt\/yardmaster\/packages\/.*\/bin\/.*\.js$/);
      // The script is among what the build stage got from the context (after the
      // .dockerignore), at the path the final stage's `COPY --from` takes it from.
      let workdir = '/';
      let origin: string | null = null;
      for (const instruction of final.instructions) {
        if (instruction.keyword === 'WORKDIR') workdir = instruction.args;
        if (instruction.keyword !== 'COPY') continue;
        const [source = '', dest = ''] = words(instruction.args);
        const target = path.posix.resolve(workdir, dest);
        if (script?.startsWith(`${target}/`)) origin = source + script.slice(target.length);
      }
      expect(origin, `a COPY --from brings ${script}`).not.toBeNull();
      expect(existsSync(path.join(scratch, origin ?? '')), `${origin} in the build stage`).toBe(
        true,
      );
    });
  }

  it('the .dockerignore keeps build output and dependencies out of the context', () => {
    const { ignored } = load('master');
    for (const excluded of [
      'node_modules/x',
      'packages/master/node_modules/x',
      'packages/master/dist/cli.js',
      'packages/master/tsconfig.tsbuildinfo',
      '.git/HEAD',
      'bench/RESULTS.md',
    ]) {
      expect(ignored(excluded), excluded).toBe(true);
    }
    for (const kept of ['package.json', 'packages/master/src/cli.ts', 'packages/master/bin/x.js']) {
      expect(ignored(kept), kept).toBe(false);
    }
    expect(dockerignore('**/dist\n!packages/www/dist')('packages/www/dist/index.html')).toBe(false);
  });
});

// ---- the file tree of each image, reproduced ----

/** An absolute image path inside the directory that stands for the image's root. */
const inRoot = (root: string, imagePath: string) => path.join(root, imagePath);

async function npm(args: string[], cwd: string): Promise<void> {
  const child = spawnProcess('npm', args, { cwd, name: `npm ${args[0] ?? ''}` });
  const exit = await child.exited;
  if (exit.code !== 0) {
    throw new Error(`npm ${args.join(' ')} failed (${JSON.stringify(exit)}):\n${child.output()}`);
  }
}

/** `npm ci …` of a RUN line as written, plus --offline --omit=dev --ignore-scripts. */
function npmCiArgs(run: string): string[] {
  const segment = /npm ci ([^&]*)/.exec(run)?.[1] ?? '';
  const args = ['ci', ...segment.split(/\s+/).filter(Boolean)];
  for (const extra of ['--offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund']) {
    if (!args.includes(extra)) args.push(extra);
  }
  return args;
}

/** What `npm run build` / `tsc -b` would have written: the repository's compiled output. */
async function copyBuiltOutput(workdir: string): Promise<void> {
  for (const pkg of readdirSync(path.join(workdir, 'packages'))) {
    const dist = path.join(ROOT, 'packages', pkg, 'dist');
    if (!existsSync(dist)) {
      throw new Error(
        `packages/${pkg}/dist is missing: build first (npx tsc -b packages/master packages/worker packages/testkit; npm run build -w @yardmaster/www)`,
      );
    }
    await cp(dist, path.join(workdir, 'packages', pkg, 'dist'), { recursive: true });
  }
}

/** Runs the build stage into `root`; returns its WORKDIR (image path). */
async function buildStage(stage: Stage, root: string, ignored: (p: string) => boolean) {
  let workdir = '/';
  for (const instruction of stage.instructions) {
    const here = inRoot(root, workdir);
    switch (instruction.keyword) {
      case 'WORKDIR':
        workdir = instruction.args;
        await mkdir(inRoot(root, workdir), { recursive: true });
        break;
      case 'COPY': {
        const args = words(instruction.args);
        copyFromContext({
          context: ROOT,
          sources: args.slice(0, -1),
          dest: args.at(-1) ?? '',
          workdir,
          root,
          ignored,
        });
        break;
      }
      case 'RUN':
        await emulateRun(instruction.args, here, instruction.line);
        break;
      default:
        throw new Error(`line ${instruction.line}: ${instruction.keyword} is not emulated`);
    }
  }
  return workdir;
}

async function emulateRun(run: string, cwd: string, line: number): Promise<void> {
  if (/^apt-get update/.test(run)) return; // build tools for native modules: not needed here
  let known = false;
  if (/\bnpm ci\b/.test(run)) {
    known = true;
    await npm(npmCiArgs(run), cwd);
  }
  if (/npm rebuild better-sqlite3/.test(run)) {
    known = true;
    const release = 'node_modules/better-sqlite3/build/Release';
    await mkdir(path.join(cwd, release), { recursive: true });
    await copyFile(
      path.join(ROOT, release, 'better_sqlite3.node'),
      path.join(cwd, release, 'better_sqlite3.node'),
    );
  }
  if (/npm run build|npx tsc -b/.test(run)) {
    known = true;
    await copyBuiltOutput(cwd);
  }
  const removed = /rm -rf ([^&\n]+)/.exec(run)?.[1];
  if (removed !== undefined) {
    for (const target of removed.trim().split(/\s+/)) {
      const [head, star, tail] = target.split('/');
      if (star === '*' && head && tail) {
        for (const entry of readdirSync(path.join(cwd, head))) {
          rmSync(path.join(cwd, head, entry, tail), { recursive: true, force: true });
        }
      } else rmSync(path.join(cwd, target), { recursive: true, force: true });
    }
  }
  if (!known) throw new Error(`line ${line}: RUN ${run.slice(0, 80)}… is not emulated`);
}

/** The final stage into `root`, taking `COPY --from` out of the build stage's root. */
async function finalStageInto(stage: Stage, root: string, buildRoot: string): Promise<string> {
  let workdir = '/';
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'WORKDIR':
        workdir = instruction.args;
        await mkdir(inRoot(root, workdir), { recursive: true });
        break;
      case 'COPY': {
        expect(instruction.flags.from, `line ${instruction.line}`).toBeDefined();
        const [source = '', dest = ''] = words(instruction.args);
        const into = dest.endsWith('/') || dest === '.';
        const target = inRoot(
          root,
          path.posix.resolve(workdir, dest, into ? path.posix.basename(source) : ''),
        );
        await mkdir(path.dirname(target), { recursive: true });
        // The build stage is thrown away: moving is copying here.
        renameSync(inRoot(buildRoot, source), target);
        break;
      }
      case 'RUN': {
        // apt-get, the user and group; the directories are what the image needs of it.
        const dirs = /mkdir -p ([^&\n]+)/.exec(instruction.args)?.[1] ?? '';
        for (const dir of dirs.trim().split(/\s+/).filter(Boolean)) {
          await mkdir(inRoot(root, dir), { recursive: true });
        }
        break;
      }
      case 'ENV':
      case 'USER':
      case 'EXPOSE':
      case 'ENTRYPOINT':
      case 'CMD':
        break;
      default:
        throw new Error(`line ${instruction.line}: ${instruction.keyword} is not emulated`);
    }
  }
  return workdir;
}

async function reproduce(image: Image) {
  const { stages, ignored } = load(image);
  const buildRoot = await makeTempDir(`docker-${image}-build`);
  const root = await makeTempDir(`docker-${image}-image`);
  const build = stages[0];
  if (!build || stages.length !== 2)
    throw new Error(`${image}: expected a build and a final stage`);
  await buildStage(build, buildRoot, ignored);
  const final = finalStage(stages);
  const workdir = await finalStageInto(final, root, buildRoot);
  // The image's ENV, its absolute paths moved into the reproduced root.
  const env = Object.fromEntries(
    Object.entries(envOf(final)).map(([k, v]) => [k, v.startsWith('/') ? inRoot(root, v) : v]),
  );
  const command = commandOf(final);
  const script = command.find((word) => word.endsWith('.js')) ?? '';
  const args = command.slice(command.indexOf(script) + 1);
  return { root, env, workdir: inRoot(root, workdir), script: inRoot(root, script), args };
}

describe('deploy/docker, reproduced', () => {
  it('the master image runs checkconfig and start; the worker image runs a build on it', async () => {
    const [master, worker] = await Promise.all([reproduce('master'), reproduce('worker')]);
    expect(existsSync(master.script)).toBe(true);
    expect(existsSync(worker.script)).toBe(true);
    // Only the worker's dependencies in the worker image.
    const workerModules = readdirSync(path.join(worker.root, 'opt/yardmaster/node_modules'));
    expect(workerModules).toContain('ws');
    expect(workerModules).not.toContain('fastify');
    expect(workerModules).not.toContain('better-sqlite3');

    const configFile = master.env.YARDMASTER_CONFIG ?? '';
    expect(configFile.startsWith(master.root)).toBe(true);
    const env = { ...master.env, YARDMASTER_LOG_LEVEL: 'info', NODE_PATH: undefined };
    // The deployment's own config (the ConfigMap) is valid for this image.
    await copyFile(path.join(ROOT, 'deploy/kubernetes/base/master.config.ts'), configFile);
    const check = spawnProcess(process.execPath, [master.script, 'checkconfig', configFile], {
      cwd: master.workdir,
      env,
      name: 'checkconfig (image)',
    });
    const checked = await check.exited;
    expect(checked.code, check.output()).toBe(0);

    await writeFile(
      configFile,
      `import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';
export default defineConfig({
  workers: [worker('w1', { password: 'pw' })],
  builders: [builder({ name: 'hello', workerNames: ['w1'], factory: buildFactory([shellCommand({ command: 'echo hello from the image' })]) })],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['hello'] })],
});
`,
    );
    const webPort = await freePort();
    const workerPort = await freePort();
    const processes: SpawnedProcess[] = [];
    try {
      const started = spawnProcess(process.execPath, [master.script, ...master.args], {
        cwd: master.workdir,
        env: {
          ...env,
          YARDMASTER_WEB_PORT: String(webPort),
          YARDMASTER_WORKER_PORT: String(workerPort),
        },
        name: 'master (image)',
      });
      processes.push(started);
      await started.waitForOutput(/master .* started/, 30_000);
      expect(existsSync(path.join(master.env.YARDMASTER_BASEDIR ?? '', 'state.sqlite'))).toBe(true);
      const ui = await fetch(`http://127.0.0.1:${webPort}/`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toContain('<div id="root"');

      processes.push(
        spawnProcess(process.execPath, [worker.script, ...worker.args], {
          cwd: worker.workdir,
          env: {
            ...worker.env,
            NODE_PATH: undefined,
            YARDMASTER_MASTER: `127.0.0.1:${workerPort}`,
            YARDMASTER_WORKER_NAME: 'w1',
            YARDMASTER_WORKER_PASSWORD: 'pw',
          },
          name: 'worker (image)',
        }),
      );
      const forced = await httpJson<{ result: [number, Record<string, number>] }>(
        'POST',
        `http://127.0.0.1:${webPort}/api/v2/forceschedulers/force`,
        { jsonrpc: '2.0', method: 'force', id: 1, params: { builderNames: ['hello'] } },
      );
      expect(forced.status).toBe(200);
      const brid = Object.values(forced.json.result[1])[0];
      const build = await waitFor(
        async () => {
          const { json } = await httpJson<{ builds: { complete: boolean; results: number }[] }>(
            'GET',
            `http://127.0.0.1:${webPort}/api/v2/buildrequests/${brid}/builds`,
          );
          return json.builds.find((b) => b.complete);
        },
        { timeoutMs: 30_000, message: 'the build on the worker image is done' },
      );
      expect(build.results).toBe(0);
    } finally {
      for (const child of processes.reverse()) await child.stop();
    }
  }, 120_000);
});
