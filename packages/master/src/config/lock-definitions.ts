/**
 * A lock is known by its kind and name (`masterLock('db')`): every place that uses it must
 * define it alike (Buildbot refuses two locks of one name with different `maxCount`).
 * Reads the raw config, so it works while other parts of the config are broken. Pure.
 */
import { isPlainObject } from './describe-value.js';
import { formatPath } from './format-problems.js';

type Path = (string | number)[];

/** The lock inside a `locks` entry: `lock.access(...)`'s lock, or the bare lock. */
function lockOf(entry: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(entry)) return undefined;
  const lock = entry.type === 'lockAccess' ? entry.lock : entry;
  if (!isPlainObject(lock)) return undefined;
  if (lock.type !== 'masterLock' && lock.type !== 'workerLock') return undefined;
  return typeof lock.name === 'string' ? lock : undefined;
}

function definition(lock: Record<string, unknown>): string {
  return JSON.stringify([lock.maxCount ?? 1, lock.maxCountForWorker ?? {}]);
}

export function lockDefinitionProblems(raw: unknown): { path: Path; message: string }[] {
  const builders = isPlainObject(raw) && Array.isArray(raw.builders) ? raw.builders : [];
  const uses: { path: Path; lock: Record<string, unknown> }[] = [];
  const collect = (locks: unknown, path: Path) => {
    if (!Array.isArray(locks)) return;
    locks.forEach((entry: unknown, index) => {
      const lock = lockOf(entry);
      if (lock) uses.push({ path: [...path, index], lock });
    });
  };
  builders.forEach((builder: unknown, b) => {
    if (!isPlainObject(builder)) return;
    collect(builder.locks, ['builders', b, 'locks']);
    const factory = builder.factory;
    const steps = isPlainObject(factory) && Array.isArray(factory.steps) ? factory.steps : [];
    steps.forEach((step: unknown, s) => {
      if (isPlainObject(step)) collect(step.locks, ['builders', b, 'factory', 'steps', s, 'locks']);
    });
  });
  const first = new Map<string, { path: Path; definition: string }>();
  const problems: { path: Path; message: string }[] = [];
  for (const use of uses) {
    const key = `${String(use.lock.type)}:${String(use.lock.name)}`;
    const seen = first.get(key);
    if (!seen) first.set(key, { path: use.path, definition: definition(use.lock) });
    else if (seen.definition !== definition(use.lock)) {
      problems.push({
        path: use.path,
        message: `${String(use.lock.type)} "${String(use.lock.name)}" is defined with other options than at ${formatPath(seen.path)}; define it once and reuse it`,
      });
    }
  }
  return problems;
}
