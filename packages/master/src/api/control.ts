/**
 * What the REST API may ask the running master to do, beyond reading the data API.
 * The master implements it; the API never reaches into the process layer directly.
 */
import type { ChangeHooksConfig } from '../config/change-types.js';

export interface ForceResult {
  buildsetid: number;
  buildrequestids: Record<number, number>;
}

export interface ForceSchedulerDescription {
  name: string;
  label: string;
  builder_names: string[];
  button_name: string;
  all_fields: unknown[];
}

/** A configured scheduler of this master, for `GET /api/v2/schedulers`. */
export interface SchedulerDescription {
  name: string;
  enabled: boolean;
  /** The master running it. */
  masterid: number;
}

export interface MasterControl {
  forceSchedulers(): ForceSchedulerDescription[];
  /** Every configured scheduler (force and others), in config order. */
  configuredSchedulers(): SchedulerDescription[];
  /** Throws NotFoundError for an unknown scheduler, BadRequestError for bad params. */
  force(
    schedulerName: string,
    params: Record<string, unknown>,
    owner: string | null,
  ): Promise<ForceResult>;
  /** Throws NotFoundError for an unknown build. */
  stopBuild(buildid: number, reason: string): Promise<void>;
  rebuild(buildid: number, reason: string): Promise<ForceResult>;
  /**
   * Buildbot's worker control (`POST /api/v2/workers/<id>`, api/worker-control-routes.ts):
   * `pause`/`unpause` (no new builds while paused), `stop` (graceful: no new builds, shut
   * down once idle), `kill` (disconnect now). Throws NotFoundError for an unknown worker.
   */
  controlWorker?(worker: number | string, action: WorkerAction, reason: string): Promise<void>;
  /** Cancels a build request: a pending one completes CANCELLED; a started one has its build stopped. */
  cancelBuildRequest?(buildrequestid: number, reason: string): Promise<void>;
  /** The change hooks the config enables (`/change_hook/<dialect>`); left out: none. */
  changeHooks?(): ChangeHooksConfig;
  /** The configured change sources, in config order (`GET /api/v2/changesources`). */
  changeSources?(): { name: string }[];
}

export type WorkerAction = 'pause' | 'unpause' | 'stop' | 'kill';
