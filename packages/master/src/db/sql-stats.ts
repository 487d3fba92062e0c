/**
 * Counts the statements the master sends to its database, for benchmarks: enabled by
 * `YARDMASTER_SQL_STATS=<file>`, off (and free) otherwise.
 *
 * Every statement Kysely runs passes through its `log` hook, including `begin`, `commit`
 * and `rollback` (each one round trip on PostgreSQL). Statements are counted by shape:
 * the SQL text with `in (…)` lists and multi-row `values` folded, so a batch of 3 and a
 * batch of 30 count as one shape. The counts go to the file as JSON every second (a
 * benchmark reads them while the master runs) and when the database is closed.
 *
 * State: one map of shape → count per process, written by a timer; no locking needed
 * (one thread).
 */
import fs from 'node:fs';
import type { LogEvent } from 'kysely';

export interface SqlStatsSnapshot {
  /** When the snapshot was taken (epoch ms). */
  at: number;
  statements: number;
  transactions: number;
  /** Statement shape → how many times it ran. */
  shapes: Record<string, number>;
}

/** Folds parameter lists so one statement shape counts as one, whatever its batch size. */
export function statementShape(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/\$\d+/g, '?')
    .replace(/\((\s*\?\s*,)+\s*\?\s*\)/g, '(…)')
    .replace(/(\((?:[^()]|\(…\))*\))(?:\s*,\s*\((?:[^()]|\(…\))*\))+/g, '$1, …')
    .trim();
}

export class SqlStats {
  private readonly shapes = new Map<string, number>();
  /** SQL text → its shape: folding is regex work, done once per distinct text. */
  private readonly shapeOf = new Map<string, string>();
  private statements = 0;
  private transactions = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    this.timer = setInterval(() => this.write(), 1000);
    this.timer.unref();
  }

  /** The `log` option for Kysely. */
  readonly log = (event: LogEvent): void => {
    const text = event.query.sql;
    this.statements++;
    if (/^\s*(begin|start transaction)/i.test(text)) this.transactions++;
    let shape = this.shapeOf.get(text);
    if (shape === undefined) {
      shape = statementShape(text);
      if (this.shapeOf.size < 10_000) this.shapeOf.set(text, shape);
    }
    this.shapes.set(shape, (this.shapes.get(shape) ?? 0) + 1);
  };

  snapshot(): SqlStatsSnapshot {
    return {
      at: Date.now(),
      statements: this.statements,
      transactions: this.transactions,
      shapes: Object.fromEntries([...this.shapes.entries()].sort((a, b) => b[1] - a[1])),
    };
  }

  write(): void {
    try {
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.snapshot(), null, 1));
      fs.renameSync(tmp, this.file);
    } catch {
      // Benchmark aid only: a file that cannot be written must not disturb the master.
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.write();
  }
}

/** The stats for this process when `YARDMASTER_SQL_STATS` names a file, else null. */
export function sqlStatsFromEnv(env: NodeJS.ProcessEnv = process.env): SqlStats | null {
  const file = env.YARDMASTER_SQL_STATS;
  return file ? new SqlStats(file) : null;
}
