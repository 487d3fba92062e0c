/** The reporters a config asks for. */
import type { ReporterConfig } from '../config/types.js';
import { GitHubStatusPush } from './github-status-push.js';
import { GitLabStatusPush } from './gitlab-status-push.js';
import { HttpStatusPush } from './http-status-push.js';
import type { Reporter, ReporterDeps } from './reporter.js';

export type { Reporter, ReporterDeps } from './reporter.js';

export function createReporter(config: ReporterConfig, deps: ReporterDeps): Reporter {
  switch (config.type) {
    case 'httpStatusPush':
      return new HttpStatusPush(config, deps);
    case 'gitHubStatusPush':
      return new GitHubStatusPush(config, deps);
    case 'gitLabStatusPush':
      return new GitLabStatusPush(config, deps);
  }
}
