/**
 * Owner and repository name from a git URL, as Buildbot's `giturlparse`:
 * `https://github.com/owner/repo.git`, `git@github.com:owner/repo`,
 * `ssh://git@host:22/group/sub/repo.git` → `{ owner: 'group/sub', repo: 'repo' }`. Pure.
 */
export interface RepositoryName {
  owner: string;
  repo: string;
}

export function parseRepositoryUrl(url: string): RepositoryName | null {
  const trimmed = url.trim();
  let repoPath: string | undefined;
  const scp = /^[^@/\s]+@[^:/\s]+:(?!\d+\/)(.+)$/.exec(trimmed);
  if (scp) repoPath = scp[1];
  else {
    try {
      repoPath = new URL(trimmed).pathname;
    } catch {
      return null;
    }
  }
  const parts = (repoPath ?? '')
    .replace(/\.git\/?$/, '')
    .split('/')
    .filter((part) => part !== '');
  if (parts.length < 2) return null;
  const repo = parts.pop() ?? '';
  return { owner: parts.join('/'), repo };
}

/** Buildbot's GitHub reporter: `project` "owner/repo" wins over the repository URL. */
export function repositoryOf(sourcestamp: {
  project: string;
  repository: string;
}): RepositoryName | null {
  const project = sourcestamp.project;
  if (project.includes('/')) {
    const [owner, repo] = project.split('/', 2);
    if (owner && repo) return { owner, repo };
  }
  return parseRepositoryUrl(sourcestamp.repository);
}
