/** How a finished remote command maps to a step result. */
import { Results, type Result } from '../results.js';
import type { RemoteCommandResult } from '../process/remote-command.js';

export function commandResult(result: RemoteCommandResult, stopping: boolean): Result {
  if (result.interrupted && stopping) return Results.CANCELLED;
  if (result.failure !== null) return Results.EXCEPTION;
  return result.rc === 0 ? Results.SUCCESS : Results.FAILURE;
}
