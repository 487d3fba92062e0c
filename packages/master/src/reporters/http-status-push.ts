/**
 * `httpStatusPush` (Buildbot's `HttpStatusPush`): POSTs the build as JSON, as the data API
 * shows it (plus `builder`, `buildset.sourcestamps`, `url`, and `properties` / `steps` when
 * wanted), when a build starts and when it finishes. A 2xx answer is success; 5xx, 429 and
 * network errors are retried (reporters/http-sender.ts); anything else is logged.
 */
import type { HttpStatusPushConfig } from '../config/types.js';
import type { SecretRedactor } from '../process/secrets.js';
import { Reporter, isSuccessful, type BuildReport, type ReporterDeps } from './reporter.js';

export class HttpStatusPush extends Reporter {
  constructor(
    private readonly options: HttpStatusPushConfig,
    deps: ReporterDeps,
  ) {
    super('httpStatusPush', options, deps);
  }

  protected override wantSteps(): boolean {
    return this.options.wantSteps;
  }

  protected async report(report: BuildReport, redactor: SecretRedactor): Promise<void> {
    const url = await this.render(this.options.serverUrl, report, redactor);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.options.headers)) {
      headers[name] = await this.render(value, report, redactor);
    }
    const auth = this.options.auth;
    if (auth !== null) {
      const password = await this.render(auth.password, report, redactor);
      redactor.remember('http-auth', Buffer.from(`${auth.user}:${password}`).toString('base64'));
      headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${password}`).toString('base64')}`;
    }
    const body: Record<string, unknown> = {
      ...report.build,
      builder: report.builder,
      buildset: { bsid: report.buildsetid, sourcestamps: report.sourcestamps },
      url: report.url,
    };
    if (this.options.wantProperties) body.properties = report.properties;
    else delete body.properties;
    if (report.steps !== null) body.steps = report.steps;
    const answer = await this.sender.send({ method: 'POST', url, headers, body });
    if (!isSuccessful(answer.status)) {
      this.refused(`POST ${url}`, answer.status, answer.text, redactor);
    }
  }
}
