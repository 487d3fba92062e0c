/**
 * `gitHubStatusPush` (Buildbot's `GitHubStatusPush`): sets a commit status on GitHub for
 * each source stamp with a revision: `pending` when the build starts, then `success`,
 * `failure` or `error` from its result. `POST {baseURL}/repos/{owner}/{repo}/statuses/{sha}`
 * with `Authorization: token …`. Owner and repository come from the source stamp's
 * `project` ("owner/repo") or its repository URL; stamps without either are skipped.
 */
import type { GitHubStatusPushConfig } from '../config/types.js';
import type { SecretRedactor } from '../process/secrets.js';
import { Results } from '../results.js';
import { repositoryOf } from './git-url.js';
import { Reporter, isSuccessful, type BuildReport, type ReporterDeps } from './reporter.js';

/** Buildbot's mapping of build results to GitHub states. */
export function gitHubState(report: Pick<BuildReport, 'event' | 'build'>): string {
  if (report.event === 'new' || !report.build.complete) return 'pending';
  switch (report.build.results) {
    case Results.SUCCESS:
    case Results.WARNINGS:
    case Results.SKIPPED:
      return 'success';
    case Results.FAILURE:
      return 'failure';
    case Results.RETRY:
      return 'pending';
    default:
      return 'error';
  }
}

export class GitHubStatusPush extends Reporter {
  constructor(
    private readonly options: GitHubStatusPushConfig,
    deps: ReporterDeps,
  ) {
    super('gitHubStatusPush', options, deps);
  }

  protected async report(report: BuildReport, redactor: SecretRedactor): Promise<void> {
    const token = await this.render(this.options.token, report, redactor);
    redactor.remember('token', token);
    const context = await this.render(this.options.context, report, redactor);
    const state = gitHubState(report);
    const description = report.event === 'new' ? 'Build started.' : 'Build done.';
    for (const stamp of report.sourcestamps) {
      const repository = repositoryOf(stamp);
      if (!repository || !stamp.revision) {
        this.deps.log.debug(
          { reporter: this.name, codebase: stamp.codebase },
          'skipped a GitHub status: the source stamp has no repository or revision',
        );
        continue;
      }
      const url = `${this.options.baseURL}/repos/${repository.owner}/${repository.repo}/statuses/${stamp.revision}`;
      const answer = await this.sender.send({
        method: 'POST',
        url,
        headers: {
          Authorization: `token ${token}`,
          'User-Agent': 'Yardmaster',
          Accept: 'application/vnd.github+json',
        },
        body: { state, target_url: report.url, description, context },
      });
      if (!isSuccessful(answer.status)) {
        this.refused(
          `GitHub status "${state}" for ${repository.owner}/${repository.repo} at ${stamp.revision}`,
          answer.status,
          answer.text,
          redactor,
        );
      }
    }
  }
}
