import type { ConfigProblem } from './config-error.js';
import { plural } from './describe-value.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `['builders', 0, 'workerNames', 1]` → `builders[0].workerNames[1]`; `[]` → `(config)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment))
      text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text === '' ? '(config)' : text;
}

/**
 * ```
 * master.config.ts has 2 problems:
 *   builders[0].workerNames[1]: unknown worker "k8s-2" (known: linux-1, k8s)
 *   schedulers[0].treeStableTimer: expected a duration such as "30s", got "30 seconds"
 * ```
 */
export function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}`);
  return [`${source} has ${plural(problems.length, 'problem')}:`, ...lines].join('\n');
}
