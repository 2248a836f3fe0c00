/**
 * @module sandbox/github/render
 * GitHub's JSON shapes for accounts, repositories, apps and installations, as the REST API
 * answers them (`simple-user`, `private-user`, `repository`, `full-repository`, `integration`,
 * `installation`, `webhook-config`): every member GitHub's OpenAPI description requires, with the
 * URL templates GitHub sends. Git objects and pull requests are in render-git.ts.
 */
import type { Gh } from './context.js'
import type { GhApp, GhInstallation, GhRepo } from './state.js'

export const nodeId = (kind: string, id: number) =>
  Buffer.from(`0${kind.length}:${kind}${id}`).toString('base64').replace(/=+$/, '')

/** A user or organization as `simple-user`. */
export function simpleUser(gh: Gh, login: string) {
  const a = gh.state.account(login)
  const type = a?.type ?? 'User'
  const name = a ? (a.type === 'User' ? a.user.username : a.org.login) : login
  const id = a ? (a.type === 'User' ? a.user.id : a.org.id) : 0
  const api = `${gh.urls.api}/${type === 'User' ? 'users' : 'users'}/${name}`
  return {
    login: name,
    id,
    node_id: nodeId(type, id),
    avatar_url: `${gh.urls.web}/avatars/u/${id}`,
    gravatar_id: '',
    url: api,
    html_url: `${gh.urls.web}/${name}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    user_view_type: 'public',
    site_admin: false,
  }
}

/** `GET /user` for a user token: `private-user`. */
export function privateUser(gh: Gh, username: string) {
  const u = gh.state.user(username)!
  const owned = gh.state.data.repositories.filter((r) => r.owner === username)
  return {
    ...simpleUser(gh, username),
    name: u.displayName,
    company: null,
    blog: '',
    location: null,
    email: u.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    notification_email: u.email,
    public_repos: owned.filter((r) => !r.private).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: u.createdAt,
    updated_at: u.createdAt,
    private_gists: 0,
    total_private_repos: owned.filter((r) => r.private).length,
    owned_private_repos: owned.filter((r) => r.private).length,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: false,
    plan: { name: 'free', space: 976562499, private_repos: 10000, collaborators: 0 },
  }
}

/** A repository as `repository` (listings) or, with `full`, `full-repository`. */
export function repository(gh: Gh, r: GhRepo, defaultBranch: string, full = false) {
  const fullName = `${r.owner}/${r.name}`
  const api = `${gh.urls.api}/repos/${fullName}`
  const html = `${gh.urls.web}/${fullName}`
  const host = new URL(gh.urls.web).host
  const out = {
    id: r.id,
    node_id: nodeId('Repository', r.id),
    name: r.name,
    full_name: fullName,
    private: r.private,
    owner: simpleUser(gh, r.owner),
    html_url: html,
    description: r.description || null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://${host}/${fullName}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${host}:${fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: defaultBranch,
    open_issues_count: 0,
    open_issues: 0,
    is_template: false,
    topics: [] as string[],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: r.private ? 'private' : 'public',
    pushed_at: r.pushedAt,
    created_at: r.createdAt,
    updated_at: r.pushedAt,
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
  }
  return full ? { ...out, network_count: 0, subscribers_count: 0 } : out
}

/** An app as `integration` (`GET /app`). */
export function integration(gh: Gh, a: GhApp) {
  return {
    id: a.id,
    slug: a.slug,
    node_id: nodeId('Integration', a.id),
    client_id: a.clientId,
    owner: simpleUser(gh, a.owner),
    name: a.name,
    description: a.description || null,
    external_url: a.url,
    html_url: `${gh.urls.web}/${gh.enterprise ? 'github-apps' : 'apps'}/${a.slug}`,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
    permissions: a.permissions,
    events: a.events,
    installations_count: gh.state.data.installations.filter((i) => i.appId === a.id).length,
  }
}

/** An installation as `installation`. */
export function installation(gh: Gh, i: GhInstallation) {
  const app = gh.state.app(i.appId)!
  const account = simpleUser(gh, i.account)
  return {
    id: i.id,
    account,
    repository_selection: i.repositorySelection,
    access_tokens_url: `${gh.urls.api}/app/installations/${i.id}/access_tokens`,
    repositories_url: `${gh.urls.api}/installation/repositories`,
    html_url:
      account.type === 'Organization'
        ? `${gh.urls.web}/organizations/${account.login}/settings/installations/${i.id}`
        : `${gh.urls.web}/settings/installations/${i.id}`,
    app_id: i.appId,
    app_slug: app.slug,
    client_id: app.clientId,
    target_id: account.id,
    target_type: account.type,
    permissions: i.permissions,
    events: i.events,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [] as string[],
    suspended_by: i.suspendedBy ? simpleUser(gh, i.suspendedBy) : null,
    suspended_at: i.suspendedAt,
  }
}

/** The app's webhook configuration (`webhook-config`), its secret masked as GitHub does. */
export function hookConfig(a: GhApp) {
  const out: Record<string, string> = { content_type: 'json', insecure_ssl: '0' }
  if (a.webhookUrl) out['url'] = a.webhookUrl
  if (a.webhookSecret) out['secret'] = '********'
  return out
}
