/**
 * How a config file's TypeScript (or ES module syntax) becomes code jiti can run: sucrase
 * strips the types and turns `import`/`export` into CommonJS, keeping every line where it
 * was, so an error's line number is the user's line. jiti's default transform is Babel,
 * which costs a master about 30 MB of resident memory for as long as it runs
 * (docs/decisions/0015-config-transpiler.md).
 *
 * Sucrase runs in a short-lived child process, one per file transformed (jiti's transform is
 * synchronous, hence `execFileSync`): loaded into the master, its code, its parser's state
 * and the optimized code of its tokenizer stayed for as long as the master ran, ~2–3 MB of
 * an idle master that only ever needs them while loading its config (decision 0018). The
 * price is a node start per file (~0.1 s) on each load and reload.
 *
 * A syntax error is not thrown here (jiti would drop it): the code returned throws it when
 * it runs, as a SyntaxError naming the file, line and column.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const SUCRASE = createRequire(import.meta.url).resolve('sucrase');

/**
 * The child: reads `{source, options}` (JSON) on stdin, writes `{code}` or `{error}` (JSON)
 * on stdout. CommonJS, given to `node -e`, so it runs the same from src/ and dist/.
 */
const CHILD_SCRIPT = `
const { transform } = require(process.argv[1]);
const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const { source, options } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  let reply;
  try {
    reply = { code: transform(source, options).code };
  } catch (error) {
    reply = { error: { message: String(error && error.message), loc: error && error.loc } };
  }
  process.stdout.write(JSON.stringify(reply));
});
`;

/** Sucrase's options for one file (sucrase's `Options`, the fields used here). */
interface SucraseOptions {
  transforms: ('typescript' | 'imports')[];
  filePath: string;
  production: boolean;
}

/** What sucrase threw (a syntax error), with where, as the child reported it. */
class SucraseError extends Error {
  constructor(
    message: string,
    readonly loc?: { line: number; column: number },
  ) {
    super(message);
  }
}

/** Runs sucrase's `transform` in a child process; throws what sucrase threw. */
function transformInChild(source: string, options: SucraseOptions): string {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // e.g. --inspect or --require of the master's own: not for this
  const output = execFileSync(process.execPath, ['-e', CHILD_SCRIPT, SUCRASE], {
    input: JSON.stringify({ source, options }),
    env,
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const reply = JSON.parse(output) as {
    code?: string;
    error?: { message: string; loc?: { line: number; column: number } };
  };
  if (reply.error !== undefined) throw new SucraseError(reply.error.message, reply.error.loc);
  return reply.code ?? '';
}

/** What jiti hands a custom transform (its TransformOptions, the fields used here). */
export interface JitiTransformInput {
  source: string;
  filename?: string;
  ts?: boolean;
}

function syntaxErrorCode(error: SucraseError, filename: string): string {
  const reason = error.message
    .replace(/^Error transforming [^:]*: /, '')
    .replace(/ \(\d+:\d+\)$/, '');
  const where = error.loc ? `${filename}:${error.loc.line}:${error.loc.column + 1}` : filename;
  return `throw new SyntaxError(${JSON.stringify(`${reason} at ${where}`)});`;
}

export function transpileConfigSource(input: JitiTransformInput): {
  code: string;
  error?: unknown;
} {
  const filename = input.filename ?? '<config>';
  const typescript = input.ts === true || /\.[cm]?tsx?$/.test(filename);
  try {
    const code = transformInChild(input.source, {
      transforms: typescript ? ['typescript', 'imports'] : ['imports'],
      filePath: filename,
      production: true,
    });
    return { code };
  } catch (error) {
    if (error instanceof SucraseError) return { code: syntaxErrorCode(error, filename), error };
    // The child could not run (no memory, no node?): not the config's fault, say so.
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const message = `could not transpile ${filename}: ${reason}`;
    return { code: `throw new Error(${JSON.stringify(message)});`, error };
  }
}
