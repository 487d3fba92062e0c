/**
 * Recovery of a master's unfinished work, used by the master itself when it starts under
 * the same name after an unclean stop, and by another master that expires a dead one:
 * its unfinished builds (and their steps and logs) end RETRY with the reason, and the
 * requests it had claimed go back to the queue to run again.
 */
import type { DataApi } from '../data/data-api.js';
import type { Logger } from '../logger.js';
import { Results } from '../results.js';
import { EMPTY_SPEC } from '../data/result-spec.js';

export async function recoverMaster(
  data: DataApi,
  masterid: number,
  reason: string,
): Promise<{ builds: number; requests: number }> {
  const builds = await data.builds.unfinishedOf(masterid);
  for (const build of builds) {
    const steps = await data.steps.list(EMPTY_SPEC, { buildid: build.buildid });
    for (const step of steps.items) {
      if (!step.complete)
        await data.steps.finish(step.stepid, Results.RETRY, `interrupted: ${reason}`);
    }
    await data.builds.finish(
      build.buildid,
      Results.RETRY,
      `interrupted: ${reason}; the request is run again`,
    );
  }
  const claimed = await data.buildsets.claimedBy(masterid);
  await data.buildsets.unclaim(claimed, masterid);
  return { builds: builds.length, requests: claimed.length };
}

export async function recoverAfterRestart(
  data: DataApi,
  masterid: number,
  log: Logger,
): Promise<void> {
  const summary = await recoverMaster(data, masterid, 'the master stopped while this build ran');
  if (summary.builds > 0 || summary.requests > 0) {
    log.warn(
      summary,
      `recovered after an unclean stop: ${summary.builds} build(s) marked RETRY, ${summary.requests} request(s) re-queued`,
    );
  }
}
