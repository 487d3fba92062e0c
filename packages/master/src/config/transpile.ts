/**
 * How a config file's TypeScript (or ES module syntax) becomes code jiti can run: sucrase
 * strips the types and turns `import`/`export` into CommonJS, keeping every line where it
 * was, so an error's line number is the user's line. jiti's default transform is Babel,
 * which costs a master about 30 MB of resident memory for as long as it runs
 * (docs/decisions/0015-config-transpiler.md); sucrase about 3 MB.
 *
 * A syntax error is not thrown here (jiti would drop it): the code returned throws it when
 * it runs, as a SyntaxError naming the file, line and column.
 */
import { transform } from 'sucrase';

/** What jiti hands a custom transform (its TransformOptions, the fields used here). */
export interface JitiTransformInput {
  source: string;
  filename?: string;
  ts?: boolean;
}

interface SucraseError extends Error {
  loc?: { line: number; column: number };
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
    const { code } = transform(input.source, {
      transforms: typescript ? ['typescript', 'imports'] : ['imports'],
      filePath: filename,
      production: true,
    });
    return { code };
  } catch (error) {
    return { code: syntaxErrorCode(error as SucraseError, filename), error };
  }
}
