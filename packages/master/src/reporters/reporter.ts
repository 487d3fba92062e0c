/**
 * The base of the status reporters (Buildbot's `ReporterBase` with a
 * `BuildStartEndStatusGenerator`): subscribes through the data API to `builds/<id>/new` and
 * `builds/<id>/finished`, gathers what a report needs (builder, properties, buildset source
 * stamps, steps, URL) and hands it to `report()`.
 *
 * Only builds this master runs are reported, so with several masters each build is
 * reported once. Reports go out one at a time, in event order (a build's "finished" never
 * overtakes its "started" while that one is being retried). States: created → started
 * (subscribed) → stopped (unsubscribed; the report in flight and retry waits are aborted,
 * queued ones dropped). Secrets rendered for a report are redacted from everything the
 * reporter logs.
 */
import type { HookBuilder, RenderableString, ReporterConfigBase } from '../config/types.js';
import type { BuildEntity } from '../data/builds.js';
import type { DataApi } from '../data/data-api.js';
import type { Subscription } from '../data/events.js';
import type { StepEntity } from '../data/steps.js';
import type { SourceStampEntity, PropertyMap } from '../data/buildsets.js';
import type { Logger } from '../logger.js';
import { SecretRedactor, type SecretsProvider } from '../process/secrets.js';
import { renderStringAsync, type RenderContext } from '../steps/renderables.js';
import { EMPTY_SPEC } from '../data/result-spec.js';
import { HttpSender, SenderClosedError } from './http-sender.js';

export interface ReporterDeps {
  data: DataApi;
  log: Logger;
  /** This master's id (builds of other masters are not reported here). */
  masterid: () => number;
  secrets: SecretsProvider;
  /** The web UI's public URL, ending with "/". */
  buildbotURL: () => string;
}

/** Everything a reporter knows about a build when it reports it. */
export interface BuildReport {
  event: 'new' | 'finished';
  build: BuildEntity;
  builder: HookBuilder;
  properties: PropertyMap;
  sourcestamps: SourceStampEntity[];
  steps: StepEntity[] | null;
  url: string;
  buildsetid: number | null;
}

export abstract class Reporter {
  private subscriptions: Subscription[] = [];
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  protected readonly sender: HttpSender;

  constructor(
    readonly name: string,
    protected readonly config: ReporterConfigBase,
    protected readonly deps: ReporterDeps,
  ) {
    this.sender = new HttpSender({
      retries: config.retries,
      retryDelay: config.retryDelay,
      timeout: config.timeout,
    });
  }

  /** Whether `report` wants the build's steps. */
  protected wantSteps(): boolean {
    return false;
  }

  /** Sends one report; throws to have the failure logged. */
  protected abstract report(report: BuildReport, redactor: SecretRedactor): Promise<void>;

  start(): void {
    for (const event of ['new', 'finished'] as const) {
      this.subscriptions.push(
        this.deps.data.events.subscribe(['builds', '*', event], (_key, message) => {
          const build = message as BuildEntity | null;
          if (!build || build.masterid !== this.deps.masterid()) return;
          this.enqueue(event, build);
        }),
      );
    }
  }

  /** Stops reporting: no new reports, the one in flight is aborted; resolves once it ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.sender.close();
    await this.queue;
  }

  /** Resolves when every queued report was sent (or gave up): for tests. */
  async idle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
  }

  private enqueue(event: 'new' | 'finished', build: BuildEntity): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      const redactor = new SecretRedactor(this.deps.secrets);
      try {
        const report = await this.gather(event, build);
        if (report === null) return;
        await this.report(report, redactor);
      } catch (error) {
        if (error instanceof SenderClosedError) return;
        const message = error instanceof Error ? error.message : String(error);
        this.deps.log.warn(
          { reporter: this.name, buildid: build.buildid, event },
          redactor.redact(
            `${this.name}: reporting build ${build.buildid} (${event}) failed: ${message}`,
          ),
        );
      }
    });
  }

  private async gather(event: 'new' | 'finished', build: BuildEntity): Promise<BuildReport | null> {
    const { data } = this.deps;
    const builder = await data.builders.get(build.builderid);
    if (!builder) return null;
    if (this.config.builders !== null && !this.config.builders.includes(builder.name)) return null;
    const [properties, request] = await Promise.all([
      data.builds.properties([build.buildid]).then((all) => all.get(build.buildid) ?? {}),
      data.buildsets.getRequest(build.buildrequestid),
    ]);
    const sourcestamps = request ? await data.buildsets.sourcestamps(request.buildsetid) : [];
    const steps = this.wantSteps()
      ? (await data.steps.list(EMPTY_SPEC, { buildid: build.buildid })).items
      : null;
    // The "new" event comes before the build's properties are stored: these are known.
    properties.buildername ??= [builder.name, 'Builder'];
    properties.buildnumber ??= [build.number, 'Build'];
    properties.builderid ??= [builder.builderid, 'Builder'];
    return {
      event,
      build,
      builder: { name: builder.name, builderid: builder.builderid },
      properties,
      sourcestamps,
      steps,
      url: `${this.deps.buildbotURL()}builders/${build.builderid}/builds/${build.number}`,
      buildsetid: request?.buildsetid ?? null,
    };
  }

  /** Renders a reporter option (token, context, URL) for a report. */
  protected render(
    value: RenderableString,
    report: BuildReport,
    redactor: SecretRedactor,
  ): Promise<string> {
    const stamp = report.sourcestamps[0];
    const context: RenderContext = {
      getProperty: (name) => report.properties[name]?.[0],
      sourcestamp: stamp
        ? { branch: stamp.branch, revision: stamp.revision, repository: stamp.repository }
        : null,
      getSecret: (name) => redactor.get(name),
      allProperties: () =>
        Object.fromEntries(Object.entries(report.properties).map(([k, [v]]) => [k, v])),
    };
    return renderStringAsync(value, context);
  }

  /** Logs a final non-2xx answer (redacted). */
  protected refused(what: string, status: number, text: string, redactor: SecretRedactor): never {
    throw new Error(redactor.redact(`${what}: HTTP ${status} ${text.slice(0, 200)}`));
  }
}

/** Buildbot's result names for reports (`results` of a finished build). */
export function isSuccessful(status: number): boolean {
  return status >= 200 && status < 300;
}
