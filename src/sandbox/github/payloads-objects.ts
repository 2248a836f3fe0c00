/**
 * @module sandbox/github/payloads-objects
 * The objects every GitHub webhook payload embeds — users (`sender`, `owner`, `account`), the
 * organization, repositories (the REST shape, and the push event's own variant), the
 * installation reference — drawn from plain data and the sandbox's base URLs. Shapes and URL
 * templates follow GitHub's published examples (`@octokit/webhooks-examples`) with
 * `https://github.com` → `urls.web` and `https://api.github.com` → `urls.api`.
 */
import type {
  HookAccount,
  HookInstallationRef,
  HookRepository,
  HookUrls,
} from './payloads-types.js'

/**
 * A legacy (v1) GraphQL node id as GitHub sends in webhook examples: base64 of
 * `0<length of type>:<Type><id>` (e.g. `010:Repository186853002`).
 */
export function legacyNodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64')
}

const host = (web: string): string => new URL(web).host

/** A user or organization as `sender`, `owner`, `user` and `account` carry it (simple-user). */
export function userObject(urls: HookUrls, a: HookAccount) {
  const api = `${urls.api}/users/${a.login}`
  return {
    login: a.login,
    id: a.id,
    node_id: legacyNodeId(a.type, a.id),
    avatar_url: `${urls.web}/avatars/u/${a.id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: `${urls.web}/${a.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: a.type,
    site_admin: false,
  }
}

/** `organization` at the top of a payload about an organization's repository. */
export function organizationObject(urls: HookUrls, org: HookAccount) {
  const api = `${urls.api}/orgs/${org.login}`
  return {
    login: org.login,
    id: org.id,
    node_id: legacyNodeId('Organization', org.id),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/u/${org.id}?v=4`,
    description: org.description ?? '',
  }
}

/** `installation: {id, node_id}`: on every delivery made to a GitHub App's webhook. */
export function installationRef(i: HookInstallationRef) {
  return { id: i.id, node_id: legacyNodeId('IntegrationInstallation', i.id) }
}

/** The top-level keys every repository event shares: organization (if any), installation. */
export function context(urls: HookUrls, repo: HookRepository, installation?: HookInstallationRef) {
  return {
    ...(repo.owner.type === 'Organization'
      ? { organization: organizationObject(urls, repo.owner) }
      : {}),
    ...(installation ? { installation: installationRef(installation) } : {}),
  }
}

/** A repository as the REST API renders it (pull_request, create, delete, installation_*). */
export function repositoryObject(urls: HookUrls, r: HookRepository) {
  const full = `${r.owner.login}/${r.name}`
  const api = `${urls.api}/repos/${full}`
  const html = `${urls.web}/${full}`
  return {
    id: r.id,
    node_id: legacyNodeId('Repository', r.id),
    name: r.name,
    full_name: full,
    private: r.private,
    owner: userObject(urls, r.owner),
    html_url: html,
    description: r.description ?? null,
    fork: false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: r.createdAt,
    updated_at: r.updatedAt ?? r.createdAt,
    pushed_at: r.pushedAt ?? r.updatedAt ?? r.createdAt,
    git_url: `git://${host(urls.web)}/${full}.git`,
    ssh_url: `git@${host(urls.web).replace(/:\d+$/, '')}:${full}.git`,
    clone_url: `${html}.git`,
    svn_url: html,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [] as string[],
    visibility: r.private ? 'private' : 'public',
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: r.defaultBranch,
    custom_properties: {},
  }
}

const epoch = (iso: string): number => Math.floor(Date.parse(iso) / 1000)

/**
 * The push event's repository: as the REST one but with `created_at`/`pushed_at` as Unix
 * seconds, `url` the web page, an owner carrying `name` and `email`, and `stargazers` and
 * `master_branch` (GitHub's push payload keeps these from its first format).
 */
export function pushRepositoryObject(urls: HookUrls, r: HookRepository) {
  const base = repositoryObject(urls, r)
  return {
    ...base,
    owner: {
      name: r.owner.login,
      email: r.owner.email ?? null,
      ...userObject(urls, r.owner),
    },
    url: base.html_url,
    created_at: epoch(r.createdAt),
    pushed_at: epoch(r.pushedAt ?? r.updatedAt ?? r.createdAt),
    stargazers: 0,
    master_branch: r.defaultBranch,
    ...(r.owner.type === 'Organization' ? { organization: r.owner.login } : {}),
  }
}

/** `{id, node_id, name, full_name, private}`: a repository in installation events. */
export function installationRepository(r: HookRepository) {
  return {
    id: r.id,
    node_id: legacyNodeId('Repository', r.id),
    name: r.name,
    full_name: `${r.owner.login}/${r.name}`,
    private: r.private,
  }
}
