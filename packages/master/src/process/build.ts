/**
 * One build: from its row in `builds` to its result, on one worker.
 *
 * States: starting (step 0 `worker_preparation` pings the worker) → building (steps in
 * order) → finished. `stop()` may come at any time: it interrupts the running command
 * and the build ends CANCELLED. Losing the worker ends the running step and the build
 * RETRY, with the reason in the state string. Exactly one `finish` per build, and the
 * worker slot is given back on every path.
 *
 * Locks: the builder's locks are taken after the worker answered ("acquiring locks"; the
 * distributor only starts a build whose locks are free, so this rarely waits) and held to
 * the end; a step's locks are taken before it runs and released when it ends; every lock
 * is released on every path, and a stop while waiting ends the wait. Secrets rendered by
 * a step are remembered by the build's redactor: stored log lines, properties and state
 * strings never contain their values.
 */
import { logChunkContent, logChunkText } from '@yardmaster/protocol';
import path from 'node:path';
import type { DataApi } from '../data/data-api.js';
import type { BuildRequestEntity, PropertyMap, SourceStampEntity } from '../data/buildsets.js';
import type { Logger } from '../logger.js';
import { Results, resultName, worstResult, type Result } from '../results.js';
import type { WorkerConnection } from '../workers/worker-connection.js';
import type { BuildStep, CommandOptions, StepRuntime } from '../steps/build-step.js';
import { stepOutcome } from '../steps/build-step.js';
import type { BuilderRuntime } from './builder-runtime.js';
import { LogWriter } from './log-writer.js';
import type { LogTail } from '../data/logs.js';
import type { StepEnding } from '../data/steps.js';
import { RemoteCommand, WorkerLostError, type RemoteCommandResult } from './remote-command.js';
import { isTransientDatabaseError } from '../data/transient.js';
import {
  LockManager,
  LockWaitAbortedError,
  LockWaitController,
  type ResolvedLock,
} from './locks.js';
import { SecretRedactor, createSecretsProvider } from './secrets.js';
import { renderBooleanAsync } from '../steps/renderables.js';
import type { BuildServices } from './builder-runtime.js';

export interface BuildDeps {
  data: DataApi;
  log: Logger;
  masterid: number;
}

export class Build {
  buildid = 0;
  number = 0;
  private stopping = false;
  private stopReason = '';
  private retryAfterStop = false;
  private workerLost: string | null = null;
  private current: RemoteCommand | null = null;
  private readonly properties: PropertyMap = {};
  private sourcestamps: SourceStampEntity[] = [];
  private sourcestampsLoaded = false;
  private results: Result = Results.SUCCESS;
  private failedSteps: string[] = [];
  private readonly services: BuildServices;
  /** The secrets this build used, and their removal from what it stores. */
  private readonly redactor: SecretRedactor;
  private readonly stopHandlers = new Set<(reason: string) => void>();
  private readonly lockWait = new LockWaitController();
  private buildLocks: ResolvedLock[] = [];
  /** Who holds `buildLocks`: the build, or the distributor's token when it took them. */
  private lockOwner: object = this;
  private propertiesDirty = false;
  /** Each property as last stored (JSON of value and source): the end writes only changes. */
  private readonly storedJson = new Map<string, string>();
  /** The buildset's properties and source stamps, when the distributor read them already. */
  private prefetched: { properties: PropertyMap; sourcestamps: SourceStampEntity[] } | null = null;
  /** This build's step names and next number: it is their only writer. */
  private readonly stepNames = new Set<string>();
  private nextStepNumber = 0;

  constructor(
    private readonly deps: BuildDeps,
    readonly builder: BuilderRuntime,
    readonly request: BuildRequestEntity,
    readonly workerName: string,
    private readonly connection: WorkerConnection,
  ) {
    this.services = builder.services ?? {
      secrets: createSecretsProvider(null, '.'),
      locks: new LockManager(),
      masterBasedir: '.',
      globalProperties: {},
      workerProperties: () => ({}),
    };
    this.redactor = new SecretRedactor(this.services.secrets);
  }

  /**
   * Asks the build to stop. It ends CANCELLED, or RETRY when `retry` is set (the master
   * is shutting down: the request goes back to the queue and runs again).
   */
  stop(reason: string, options: { retry?: boolean } = {}): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopReason = reason;
    this.retryAfterStop = options.retry === true;
    this.lockWait.abort(reason);
    for (const handler of [...this.stopHandlers]) handler(reason);
    void this.current?.interrupt(reason);
  }

  /**
   * Writes the build's end instead of `builds.finish`: the distributor's, which completes
   * the request in the same write when the build does not go back to the queue.
   */
  private endWriter: ((results: Result, state: string) => Promise<void>) | null = null;
  /** Step 0's end, held back to be written with the first step's start. */
  private pendingStepEnd: StepEnding | undefined;

  onEnd(writer: (results: Result, state: string) => Promise<void>): void {
    this.endWriter = writer;
  }

  /** True when the build was stopped to be run again (its request must be re-queued). */
  get stoppedForRetry(): boolean {
    return this.stopping && this.retryAfterStop;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * The buildset's properties and source stamps, read by the distributor for every build
   * of a pass in one query each, so the build does not read them again.
   */
  usePrefetched(info: { properties: PropertyMap; sourcestamps: SourceStampEntity[] }): void {
    this.prefetched = info;
  }

  /** The source stamps of the build's buildset, once read (when it set up its properties). */
  get buildsetSourcestamps(): SourceStampEntity[] | undefined {
    return this.sourcestampsLoaded ? this.sourcestamps : undefined;
  }

  /** Creates the build's row; `run` may follow. */
  async create(workerid: number | null): Promise<void> {
    const created = await this.deps.data.builds.add({
      builderid: this.builder.builderid,
      buildrequestid: this.request.buildrequestid,
      workerid,
      masterid: this.deps.masterid,
      state: 'starting',
    });
    this.buildid = created.buildid;
    this.number = created.number;
  }

  /** Runs the whole build and returns its result; never throws. */
  async run(): Promise<Result> {
    const { data } = this.deps;
    const unwatch = this.connection.onClose((reason) => {
      this.workerLost = reason;
    });
    let state: string;
    // Step 0's ping leaves now: the worker answers it while the properties and the step
    // are written (decision 0019).
    const ping = this.sendPing();
    try {
      await this.setupProperties();
      const prepared = await this.prepareWorker(ping);
      if (prepared) await this.runSteps();
      state = this.finalState();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (isTransientDatabaseError(error)) {
        // An infrastructure fault, not the build's: run it again.
        this.results = Results.RETRY;
        state = `interrupted: the database was unreachable (${message}); the request is run again`;
        this.deps.log.warn({ err: error, buildid: this.buildid }, state);
      } else {
        this.results = Results.EXCEPTION;
        state = `exception: ${message}`;
        this.deps.log.error(
          { err: error, buildid: this.buildid },
          'build failed with an exception',
        );
      }
    }
    unwatch();
    try {
      await this.flushStepEnd();
      await this.storeChangedProperties();
      const stored = this.redactor.redact(state);
      if (this.endWriter) await this.endWriter(this.results, stored);
      else await data.builds.finish(this.buildid, this.results, stored);
    } finally {
      // After the build's end is stored, as Buildbot: the next holder starts after it.
      this.services.locks.release(this.buildLocks, this.lockOwner);
    }
    this.deps.log.info(
      {
        builder: this.builder.name,
        number: this.number,
        buildid: this.buildid,
        worker: this.workerName,
        results: resultName(this.results),
      },
      `build ${this.builder.name} #${this.number} finished: ${state}`,
    );
    return this.results;
  }

  private finalState(): string {
    if (this.stopping && this.retryAfterStop) {
      this.results = Results.RETRY;
      return `interrupted: ${this.stopReason}; the request is run again`;
    }
    if (this.stopping && this.results === Results.CANCELLED) return `cancelled: ${this.stopReason}`;
    if (this.workerLost !== null && this.results === Results.RETRY) {
      return `worker ${this.workerName} lost: ${this.workerLost}; the request is run again`;
    }
    switch (this.results) {
      case Results.SUCCESS:
        return 'build successful';
      case Results.WARNINGS:
        return 'build with warnings';
      case Results.FAILURE:
        return `failed ${this.failedSteps.join(' ')}`.trim();
      default:
        return resultName(this.results);
    }
  }

  private async setupProperties(): Promise<void> {
    const { data } = this.deps;
    const set = (name: string, value: unknown, source: string) => {
      this.properties[name] = [value, source];
    };
    // Global, then builder (defaults the buildset may override), then the buildset's
    // (schedulers, force form), then the worker's, then the build's own.
    for (const [name, value] of Object.entries(this.services.globalProperties))
      set(name, value, 'Global');
    for (const [name, value] of Object.entries(this.builder.properties))
      set(name, value, 'Builder');
    const fromBuildset =
      this.prefetched?.properties ?? (await data.buildsets.properties(this.request.buildsetid));
    for (const [name, value] of Object.entries(fromBuildset)) this.properties[name] = value;
    for (const [name, value] of Object.entries(this.services.workerProperties(this.workerName)))
      set(name, value, 'Worker');
    this.sourcestamps =
      this.prefetched?.sourcestamps ?? (await data.buildsets.sourcestamps(this.request.buildsetid));
    this.sourcestampsLoaded = true;
    const ss = this.sourcestamps[0];
    if (ss) {
      set('branch', ss.branch, 'Build');
      set('revision', ss.revision, 'Build');
      set('repository', ss.repository, 'Build');
      set('codebase', ss.codebase, 'Build');
      set('project', ss.project, 'Build');
    }
    set('buildername', this.builder.name, 'Builder');
    set('builderid', this.builder.builderid, 'Builder');
    set('buildnumber', this.number, 'Build');
    set('workername', this.workerName, 'Worker');
    set('masterid', this.deps.masterid, 'Build');
    await this.storeChangedProperties();
  }

  /** Stores the properties that differ from what was stored last (one statement, or none). */
  private async storeChangedProperties(): Promise<void> {
    const changed: PropertyMap = {};
    let any = false;
    for (const [name, entry] of Object.entries(this.storedProperties())) {
      const json = JSON.stringify(entry);
      if (this.storedJson.get(name) === json) continue;
      changed[name] = entry;
      this.storedJson.set(name, json);
      any = true;
    }
    if (any) await this.deps.data.builds.setProperties(this.buildid, changed);
  }

  /** The step's number and its name made unique in the build (Buildbot's `_1` suffix). */
  private nextStep(name: string): { number: number; name: string } {
    let unique = name;
    for (let i = 1; this.stepNames.has(unique); i++) unique = `${name}_${i}`;
    this.stepNames.add(unique);
    return { number: this.nextStepNumber++, name: unique };
  }

  /** The properties as stored: every secret the build used replaced by `<NAME>`. */
  private storedProperties(): PropertyMap {
    this.propertiesDirty = false;
    if (this.redactor.isEmpty) return this.properties;
    const stored: PropertyMap = {};
    for (const [name, [value, source]] of Object.entries(this.properties)) {
      stored[name] = [this.redactor.redactValue(value), source];
    }
    return stored;
  }

  /**
   * The builder's locks, after the worker answered (Buildbot's "acquiring locks"); false
   * when the build was stopped while waiting.
   */
  /**
   * The builder's locks, taken by the distributor for this build when it claimed the
   * request (so no build waits for them while holding a worker); released when it ends.
   */
  adoptLocks(locks: ResolvedLock[], owner: object): void {
    this.buildLocks = locks;
    this.lockOwner = owner;
  }

  private async acquireBuildLocks(stepid: number): Promise<boolean> {
    const accesses = this.builder.locks ?? [];
    if (accesses.length === 0 || this.buildLocks.length > 0) return true;
    const { data } = this.deps;
    const locks = this.services.locks.resolve(accesses, this.workerName);
    try {
      await this.services.locks.acquire(locks, this, this.lockWait, () => {
        void data.builds.setState(this.buildid, 'acquiring locks').catch(() => undefined);
        void data.steps.setState(stepid, 'acquiring locks').catch(() => undefined);
      });
    } catch (error) {
      if (error instanceof LockWaitAbortedError) return false;
      throw error;
    }
    this.buildLocks = locks;
    return true;
  }

  /**
   * Step 0's round trip to the worker, started before its rows are written; settles
   * (to be awaited by `prepareWorker`) with the error when the worker is gone.
   */
  private sendPing(): Promise<unknown> {
    const ping = this.connection.isClosed
      ? Promise.reject(new WorkerLostError(this.workerName, this.workerLost ?? 'not connected'))
      : this.connection.ping();
    // Awaited later, after database writes: not an unhandled rejection meanwhile.
    ping.catch(() => undefined);
    return ping;
  }

  /** Step 0, as Buildbot: make sure the worker answers before running anything. */
  private async prepareWorker(ping: Promise<unknown>): Promise<boolean> {
    const { data } = this.deps;
    const step = await data.steps.addStarted(this.buildid, {
      ...this.nextStep('worker_preparation'),
      state: 'preparing worker',
    });
    try {
      if (this.connection.isClosed)
        throw new WorkerLostError(this.workerName, this.workerLost ?? 'not connected');
      await ping;
    } catch (error) {
      this.workerLost ??= error instanceof Error ? error.message : String(error);
      this.results = Results.RETRY;
      await data.steps.finish(step.stepid, Results.RETRY, `worker ${this.workerName} lost`);
      return false;
    }
    if (!(await this.acquireBuildLocks(step.stepid))) {
      this.results = this.retryAfterStop ? Results.RETRY : Results.CANCELLED;
      await data.steps.finish(step.stepid, Results.CANCELLED, 'cancelled while acquiring locks');
      return false;
    }
    // Step 0's end and the build's "building" are written with the first step's start
    // (one statement on PostgreSQL), or by `flushStepEnd` when no step starts.
    this.pendingStepEnd = {
      stepid: step.stepid,
      results: Results.SUCCESS,
      state: `worker ${this.workerName} ready`,
      build: { buildid: this.buildid, state: 'building' },
    };
    return true;
  }

  /** Writes step 0's end if no step took it with its start (stopped, no steps, an error). */
  private async flushStepEnd(): Promise<void> {
    const ending = this.pendingStepEnd;
    if (!ending) return;
    this.pendingStepEnd = undefined;
    await this.deps.data.steps.finish(
      ending.stepid,
      ending.results,
      ending.state,
      false,
      [],
      ending.build,
    );
  }

  private async runSteps(): Promise<void> {
    let terminated = false;
    for (const step of this.builder.createSteps()) {
      if (this.stopping) {
        this.results = worstResult(this.results, Results.CANCELLED);
        break;
      }
      if (terminated && !step.flags.alwaysRun) continue;
      const result = await this.runStep(step);
      if (result === Results.FAILURE) this.failedSteps.push(step.name);
      const outcome = stepOutcome(step.flags, result);
      this.results = worstResult(this.results, outcome.buildResult);
      if (outcome.terminate) terminated = true;
      if (this.propertiesDirty) await this.storeChangedProperties();
      if (result === Results.RETRY || result === Results.CANCELLED) break;
    }
    if (this.stopping) this.results = worstResult(this.results, Results.CANCELLED);
  }

  private async runStep(step: BuildStep): Promise<Result> {
    const { data } = this.deps;
    const redact = (text: string) => this.redactor.redact(text);
    const ending = this.pendingStepEnd;
    this.pendingStepEnd = undefined;
    const row = await data.steps.addStarted(
      this.buildid,
      { ...this.nextStep(step.name), state: redact(step.describe(false)) },
      ending,
    );
    const logs: LogWriter[] = [];
    const runtime = this.runtimeFor(row.stepid, logs);
    const locks = this.services.locks.resolve(step.locks, this.workerName);
    let result: Result;
    let summary: string;
    try {
      // Buildbot refuses a lock held by both the build and one of its steps (a deadlock).
      const shared = locks.find(({ lock }) => this.buildLocks.some((held) => held.lock === lock));
      if (shared) {
        throw new Error(
          `${shared.lock.description} is taken by the builder and by step "${step.name}"; take it in one place`,
        );
      }
      if (step.locks.length > 0) {
        await this.services.locks.acquire(locks, step, this.lockWait, () => {
          void data.steps.setState(row.stepid, 'acquiring locks').catch(() => undefined);
        });
        await data.steps.setState(row.stepid, redact(step.describe(false)));
      }
      if (await renderBooleanAsync(step.doStepIf, runtime)) {
        result = await step.run(runtime);
        summary = step.describe(true);
        if (result !== Results.SUCCESS) summary += ` (${resultName(result)})`;
      } else {
        result = Results.SKIPPED;
        summary = `${step.describe(true)} (skipped)`;
      }
    } catch (error) {
      if (error instanceof LockWaitAbortedError) {
        result = Results.CANCELLED;
        summary = 'cancelled while waiting for locks';
      } else if (error instanceof WorkerLostError) {
        result = Results.RETRY;
        summary = `worker ${this.workerName} lost: ${this.workerLost ?? error.message}`;
      } else if (isTransientDatabaseError(error)) {
        result = Results.RETRY;
        summary = `interrupted: the database was unreachable (${error instanceof Error ? error.message : String(error)})`;
      } else {
        result = Results.EXCEPTION;
        summary = `exception: ${error instanceof Error ? error.message : String(error)}`;
        this.deps.log.error(
          { err: error, step: step.name, buildid: this.buildid },
          'step failed with an exception',
        );
      }
    }
    this.services.locks.release(locks, step);
    if (this.stopping && result !== Results.RETRY) result = Results.CANCELLED;
    let hidden = false;
    try {
      hidden = await renderBooleanAsync(step.hideStepIf, runtime, result);
    } catch (error) {
      result = Results.EXCEPTION;
      summary = `exception in hideStepIf: ${error instanceof Error ? error.message : String(error)}`;
    }
    // The logs' last lines and completions are stored with the step's end, in one write.
    const tails: LogTail[] = [];
    for (const log of logs) {
      try {
        const tail = await log.drain();
        if (tail) tails.push(tail);
      } catch (error) {
        this.deps.log.error({ err: error, logid: log.logid }, 'storing a log failed');
        tails.push({ logid: log.logid, text: '', firstLine: log.numLines });
      }
    }
    await data.steps.finish(row.stepid, result, redact(summary), hidden, tails);
    return result;
  }

  private runtimeFor(stepid: number, logs: LogWriter[]): StepRuntime {
    const { data } = this.deps;
    const basedir = this.connection.basedir;
    const system = this.connection.info.system;
    const join = (...parts: string[]) =>
      system === 'nt' ? path.win32.join(...parts) : path.posix.join(...parts);
    const isStopping = () => this.stopping;
    const ss = this.sourcestamps[0];
    const redactor = this.redactor;
    return {
      workerName: this.workerName,
      builderName: this.builder.name,
      workerInfo: this.connection.info,
      masterBasedir: this.services.masterBasedir,
      getSecret: (name) => redactor.get(name),
      redact: (text) => redactor.redact(text),
      allProperties: () =>
        Object.fromEntries(Object.entries(this.properties).map(([k, [v]]) => [k, v])),
      addUrl: (name, url) => data.steps.addUrl(stepid, redactor.redact(name), redactor.redact(url)),
      onStop: (handler) => {
        if (this.stopping) {
          handler(this.stopReason);
          return () => undefined;
        }
        this.stopHandlers.add(handler);
        return () => this.stopHandlers.delete(handler);
      },
      sourcestamp: ss
        ? { branch: ss.branch, revision: ss.revision, repository: ss.repository }
        : null,
      buildid: this.buildid,
      sourcestamps: this.sourcestamps,
      triggers: this.services.triggers,
      get stopping() {
        return isStopping();
      },
      workerPath: (...parts: string[]) => join(basedir, this.builder.builddir, ...parts),
      addLog: async (name, type = 's') => {
        const logid = await data.logs.add(stepid, name, type);
        const writer = new LogWriter(data, logid, name, type, { redactor });
        logs.push(writer);
        return writer;
      },
      runCommand: (commandName, args, options) => this.runCommand(commandName, args, options),
      setState: (text) => data.steps.setState(stepid, redactor.redact(text)),
      getProperty: (name) => this.properties[name]?.[0],
      setProperty: (name, value, source) => {
        this.properties[name] = [value, source];
        this.propertiesDirty = true;
      },
    };
  }

  private async runCommand(
    commandName: string,
    args: Record<string, unknown>,
    options: CommandOptions = {},
  ): Promise<RemoteCommandResult> {
    if (this.connection.isClosed)
      throw new WorkerLostError(this.workerName, this.workerLost ?? 'not connected');
    const log = options.log;
    const logfiles = options.logfiles;
    const command = new RemoteCommand(this.connection, {
      builderName: this.builder.name,
      commandName,
      args,
      sink: options.sink,
      onUpdate: (updates) => {
        if (log) {
          for (const [key, value] of updates) {
            // A log chunk's text comes as UTF-8 bytes (rawLogChunks), stored as they are.
            if (key === 'stdout') log.addStdout(logChunkContent(value));
            else if (key === 'stderr') log.addStderr(logChunkContent(value));
            else if (key === 'header') log.addHeader(logChunkText(value));
            else if (key === 'rc')
              log.addHeader(`program finished with exit code ${String(value)}`);
          }
        }
        if (logfiles) {
          // ['log', [logname, [text, offsets, timestamps]]] from shell `logfiles`.
          for (const [key, value] of updates) {
            if (key !== 'log' || !Array.isArray(value)) continue;
            const [name, chunk] = value as [unknown, unknown];
            if (typeof name === 'string') logfiles[name]?.addStdout(logChunkContent(chunk));
          }
        }
        options.onUpdate?.(updates);
      },
    });
    if (this.stopping) {
      return { rc: null, updates: new Map(), failure: null, interrupted: true };
    }
    this.current = command;
    try {
      const result = await command.run();
      if (log && result.failure !== null) log.addHeader(`\nremoteFailed: ${result.failure}`);
      return result;
    } finally {
      if (this.current === command) this.current = null;
    }
  }
}
