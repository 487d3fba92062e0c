/**
 * `gitLabStatusPush` (Buildbot's `GitLabStatusPush`): sets a commit status on GitLab for
 * each source stamp with a revision: `running` when the build starts, then `success`,
 * `failed` or `canceled`. Looks the project id up once (`GET
 * {baseURL}/api/v4/projects/{owner%2Frepo}`, cached), then `POST
 * {baseURL}/api/v4/projects/{id}/statuses/{sha}` with `PRIVATE-TOKEN`.
 */
import type { GitLabStatusPushConfig } from '../config/types.js';
import type { SecretRedactor } from '../process/secrets.js';
import { Results } from '../results.js';
import { parseRepositoryUrl } from './git-url.js';
import { Reporter, isSuccessful, type BuildReport, type ReporterDeps } from './reporter.js';

/** Buildbot's mapping of build results to GitLab states. */
export function gitLabState(report: Pick<BuildReport, 'event' | 'build'>): string {
  if (report.event === 'new' || !report.build.complete) {
    return report.build.started_at !== null ? 'running' : 'pending';
  }
  switch (report.build.results) {
    case Results.SUCCESS:
    case Results.WARNINGS:
    case Results.SKIPPED:
      return 'success';
    case Results.RETRY:
      return 'pending';
    case Results.CANCELLED:
      return 'canceled';
    default:
      return 'failed';
  }
}

export class GitLabStatusPush extends Reporter {
  /** "owner/repo" → project id. */
  private readonly projectIds = new Map<string, number>();

  constructor(
    private readonly options: GitLabStatusPushConfig,
    deps: ReporterDeps,
  ) {
    super('gitLabStatusPush', options, deps);
  }

  private async projectId(
    fullName: string,
    headers: Record<string, string>,
    redactor: SecretRedactor,
  ): Promise<number | null> {
    const known = this.projectIds.get(fullName);
    if (known !== undefined) return known;
    const url = `${this.options.baseURL}/api/v4/projects/${encodeURIComponent(fullName)}`;
    const answer = await this.sender.send({ method: 'GET', url, headers });
    if (answer.status !== 200) {
      this.deps.log.warn(
        { reporter: this.name },
        redactor.redact(`unknown (or hidden) GitLab project ${fullName}: HTTP ${answer.status}`),
      );
      return null;
    }
    const id = (JSON.parse(answer.text) as { id?: unknown }).id;
    if (typeof id !== 'number') return null;
    this.projectIds.set(fullName, id);
    return id;
  }

  protected async report(report: BuildReport, redactor: SecretRedactor): Promise<void> {
    const token = await this.render(this.options.token, report, redactor);
    redactor.remember('token', token);
    const headers = { 'PRIVATE-TOKEN': token, 'User-Agent': 'Yardmaster' };
    const context = await this.render(this.options.context, report, redactor);
    const state = gitLabState(report);
    const description = report.event === 'new' ? 'Build started.' : 'Build done.';
    for (const stamp of report.sourcestamps) {
      const repository = parseRepositoryUrl(stamp.repository);
      if (!repository || !stamp.revision) continue;
      const fullName = `${repository.owner}/${repository.repo}`;
      const id = await this.projectId(fullName, headers, redactor);
      if (id === null) continue;
      const answer = await this.sender.send({
        method: 'POST',
        url: `${this.options.baseURL}/api/v4/projects/${id}/statuses/${stamp.revision}`,
        headers,
        body: {
          state,
          ref: stamp.branch,
          target_url: report.url,
          description,
          name: context,
        },
      });
      if (!isSuccessful(answer.status)) {
        this.refused(
          `GitLab status "${state}" for ${fullName} at ${stamp.revision}`,
          answer.status,
          answer.text,
          redactor,
        );
      }
    }
  }
}
