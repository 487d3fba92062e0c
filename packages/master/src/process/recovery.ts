/**
 * What a master does for its own past when it starts under the same name: builds it
 * left unfinished (it crashed or was killed) end RETRY with the reason, and the
 * requests it had claimed go back to the queue so they run again.
 */
import type { DataApi } from '../data/data-api.js';
import type { Logger } from '../logger.js';
import { Results } from '../results.js';

export async function recoverAfterRestart(
  data: DataApi,
  masterid: number,
  log: Logger,
): Promise<void> {
  const builds = await data.builds.unfinishedOf(masterid);
  for (const build of builds) {
    const steps = await data.steps.list(
      { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
      { buildid: build.buildid },
    );
    for (const step of steps.items) {
      if (!step.complete)
        await data.steps.finish(step.stepid, Results.RETRY, 'interrupted: the master stopped');
    }
    await data.builds.finish(
      build.buildid,
      Results.RETRY,
      'interrupted: the master stopped while this build ran; the request is run again',
    );
  }
  const claimed = await data.buildsets.claimedBy(masterid);
  await data.buildsets.unclaim(claimed, masterid);
  if (builds.length > 0 || claimed.length > 0) {
    log.warn(
      { builds: builds.map((b) => b.buildid), requests: claimed },
      `recovered after an unclean stop: ${builds.length} build(s) marked RETRY, ${claimed.length} request(s) re-queued`,
    );
  }
}
