/**
 * One command run on a worker (`shell`, `mkdir`, `stat`, …), Buildbot's RemoteCommand.
 *
 * States: created → started (start_command answered) → completed (worker sent `complete`)
 * or failed (worker lost, or the worker refused the command). Updates arrive in order
 * and are handed to `onUpdate`; `rc` and other keys are collected in `updates`.
 */
import type { CommandSink, WorkerConnection } from '../workers/worker-connection.js';
import { YardmasterError } from '../errors.js';

export type UpdateArgs = [string, unknown][];

export interface RemoteCommandResult {
  rc: number | null;
  /** The last value seen for each update key (rc, elapsed, files, stat, …). */
  updates: Map<string, unknown>;
  /** Text of the worker's failure, if `complete` carried one. */
  failure: string | null;
  interrupted: boolean;
}

export class WorkerLostError extends YardmasterError {
  constructor(workerName: string, detail: string) {
    super('worker_lost', `worker ${workerName} was lost: ${detail}`);
  }
}

export interface RemoteCommandOptions {
  builderName: string;
  commandName: string;
  args: Record<string, unknown>;
  onUpdate?: (args: UpdateArgs) => void | Promise<void>;
  /** Extra handlers for file transfers (upload writes, download reads). */
  sink?: Partial<CommandSink>;
}

export class RemoteCommand {
  private static nextId = 0;
  readonly commandId = String(RemoteCommand.nextId++);
  private readonly updates = new Map<string, unknown>();
  private interrupted = false;
  private completed = false;

  constructor(
    private readonly connection: WorkerConnection,
    private readonly options: RemoteCommandOptions,
  ) {}

  run(): Promise<RemoteCommandResult> {
    return new Promise<RemoteCommandResult>((resolve, reject) => {
      const sink: CommandSink = {
        ...this.options.sink,
        update: async (args) => {
          for (const [key, value] of args) this.updates.set(key, value);
          await this.options.onUpdate?.(args);
        },
        complete: (failure) => {
          this.completed = true;
          const rc = this.updates.get('rc');
          resolve({
            rc: typeof rc === 'number' ? rc : null,
            updates: this.updates,
            failure:
              failure === null || failure === undefined
                ? null
                : typeof failure === 'string'
                  ? failure
                  : JSON.stringify(failure),
            interrupted: this.interrupted,
          });
        },
        lost: (detail) => {
          this.completed = true;
          reject(new WorkerLostError(this.connection.workerName, detail));
        },
      };
      this.connection
        .startCommand(
          this.commandId,
          this.options.builderName,
          this.options.commandName,
          this.options.args,
          sink,
        )
        .catch((error: unknown) => {
          if (this.completed) return;
          this.completed = true;
          this.connection.forgetCommand(this.commandId);
          reject(
            error instanceof YardmasterError
              ? error
              : new YardmasterError(
                  'command_refused',
                  `worker ${this.connection.workerName} refused ${this.options.commandName}: ${String(error)}`,
                ),
          );
        });
    });
  }

  /** Asks the worker to interrupt the command; `complete` follows. Safe to call twice. */
  async interrupt(why: string): Promise<void> {
    if (this.completed || this.interrupted) return;
    this.interrupted = true;
    try {
      await this.connection.interruptCommand(this.commandId, this.options.builderName, why);
    } catch {
      // The worker is gone or the command already finished; `complete` or `lost` settles it.
    }
  }
}
