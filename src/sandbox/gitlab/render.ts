/**
 * @module sandbox/gitlab/render
 * GitLab's REST v4 entities for users, groups, projects (full, `simple`, with `permissions`),
 * hooks (the secret token never returned), OAuth applications and personal access tokens, as
 * GitLab's API answers them. Commits, branches, diffs and merge requests are in render-git.ts.
 */
import type { Caller } from './auth.js'
import { isAdmin, levelOn } from './auth.js'
import { iso, type Gl } from './context.js'
import type { GlApp, GlGroup, GlHook, GlProject, GlToken, GlUser } from './state.js'

const dateOnly = (ms: number | undefined) => (ms === undefined ? null : iso(ms).slice(0, 10))

export function avatar(gl: Gl, u: GlUser): string {
  return `${gl.url}/uploads/-/system/user/avatar/${u.id}/avatar.png`
}

/** The basic user (`author`, `assignees`, …). */
export function basicUser(gl: Gl, u: GlUser) {
  return {
    id: u.id,
    username: u.username,
    name: u.displayName,
    state: 'active',
    locked: false,
    avatar_url: avatar(gl, u),
    web_url: `${gl.url}/${u.username}`,
  }
}

/** `GET /user`: the signed-in user's own view. */
export function currentUser(gl: Gl, c: Caller) {
  const u = c.user
  const out: Record<string, unknown> = {
    ...basicUser(gl, u),
    created_at: u.createdAt,
    bio: '',
    location: '',
    public_email: u.publicEmail || null,
    linkedin: '',
    twitter: '',
    discord: '',
    github: '',
    website_url: '',
    organization: '',
    job_title: '',
    pronouns: null,
    bot: u.bot,
    work_information: null,
    followers: 0,
    following: 0,
    local_time: null,
    last_sign_in_at: u.createdAt,
    confirmed_at: u.createdAt,
    last_activity_on: iso(gl.now()).slice(0, 10),
    email: u.email,
    theme_id: 1,
    color_scheme_id: 1,
    projects_limit: 100000,
    current_sign_in_at: u.createdAt,
    identities: [],
    can_create_group: !u.bot,
    can_create_project: !u.bot,
    two_factor_enabled: false,
    external: false,
    private_profile: false,
    commit_email: u.email,
  }
  if (isAdmin(gl, c)) out['is_admin'] = true
  return out
}

export function group(gl: Gl, g: GlGroup) {
  return {
    id: g.id,
    web_url: `${gl.url}/groups/${g.fullPath}`,
    name: g.name,
    path: g.path,
    description: g.description,
    visibility: g.visibility,
    share_with_group_lock: false,
    require_two_factor_authentication: false,
    two_factor_grace_period: 48,
    project_creation_level: 'developer',
    auto_devops_enabled: null,
    subgroup_creation_level: 'maintainer',
    emails_disabled: false,
    emails_enabled: true,
    mentions_disabled: null,
    lfs_enabled: true,
    default_branch: null,
    default_branch_protection: 2,
    avatar_url: null,
    request_access_enabled: true,
    full_name: gl.state
      .ancestry(g)
      .reverse()
      .map((a) => a.name)
      .join(' / '),
    full_path: g.fullPath,
    created_at: g.createdAt,
    parent_id: g.parentId,
    organization_id: 1,
    shared_runners_setting: 'enabled',
    ldap_cn: null,
    ldap_access: null,
    marked_for_deletion_on: null,
  }
}

function namespace(gl: Gl, p: GlProject) {
  if (p.namespaceKind === 'group') {
    const g = gl.state.group(p.groupId!)!
    return {
      id: g.id,
      name: g.name,
      path: g.path,
      kind: 'group',
      full_path: g.fullPath,
      parent_id: g.parentId,
      avatar_url: null,
      web_url: `${gl.url}/groups/${g.fullPath}`,
    }
  }
  const u = gl.state.user(p.owner!)!
  return {
    id: u.id + 100000,
    name: u.displayName,
    path: u.username,
    kind: 'user',
    full_path: u.username,
    parent_id: null,
    avatar_url: avatar(gl, u),
    web_url: `${gl.url}/${u.username}`,
  }
}

/**
 * Whether the caller may read the project's code (GitLab's `read_code`): anyone who sees a public
 * or internal project, Reporter and up on a private one. Without it GitLab leaves out
 * `default_branch`, `readme_url` and `forks_count`. The `hideDefaultBranch` setting takes it from
 * group access tokens too, as GitLab 16.7.5-ee did (gitlab-org/gitlab#442150).
 */
function readsCode(gl: Gl, p: GlProject, c: Caller | undefined): boolean {
  if (gl.state.data.settings.hideDefaultBranch === true && c?.token.kind === 'group') return false
  return p.visibility !== 'private' || levelOn(gl, c, p) >= 20
}

/** The `simple=true` project (GitLab's BasicProjectDetails). */
export function simpleProject(
  gl: Gl,
  p: GlProject,
  defaultBranch: string | null,
  c: Caller | undefined,
) {
  const full = gl.state.fullPath(p)
  const ns = namespace(gl, p)
  const code = readsCode(gl, p, c)
  return {
    id: p.id,
    description: p.description,
    name: p.name,
    name_with_namespace: `${gl.state
      .namespacePath(p)
      .split('/')
      .map((_, i, a) => {
        const g = gl.state.groupByRef(a.slice(0, i + 1).join('/'))
        return g?.name ?? ns.name
      })
      .join(' / ')} / ${p.name}`,
    path: p.path,
    path_with_namespace: full,
    created_at: p.createdAt,
    ...(code ? { default_branch: defaultBranch } : {}),
    tag_list: [],
    topics: [],
    ssh_url_to_repo: `git@${new URL(gl.url).hostname}:${full}.git`,
    http_url_to_repo: `${gl.url}/${full}.git`,
    web_url: `${gl.url}/${full}`,
    ...(code
      ? {
          readme_url: defaultBranch ? `${gl.url}/${full}/-/blob/${defaultBranch}/README.md` : null,
          forks_count: 0,
        }
      : {}),
    avatar_url: null,
    star_count: 0,
    last_activity_at: p.lastActivityAt,
    visibility: p.visibility,
    namespace: ns,
  }
}

const access = (level: number) =>
  level > 0 ? { access_level: level, notification_level: 3 } : null

/** The full project, with `permissions` for the caller. */
export function project(gl: Gl, p: GlProject, defaultBranch: string | null, c: Caller | undefined) {
  const g = p.groupId ? gl.state.group(p.groupId) : undefined
  const name = c?.user.username ?? ''
  const owner = p.owner ? gl.state.user(p.owner) : undefined
  return {
    ...simpleProject(gl, p, defaultBranch, c),
    _links: {
      self: `${gl.api}/projects/${p.id}`,
      issues: `${gl.api}/projects/${p.id}/issues`,
      merge_requests: `${gl.api}/projects/${p.id}/merge_requests`,
      repo_branches: `${gl.api}/projects/${p.id}/repository/branches`,
      labels: `${gl.api}/projects/${p.id}/labels`,
      events: `${gl.api}/projects/${p.id}/events`,
      members: `${gl.api}/projects/${p.id}/members`,
      cluster_agents: `${gl.api}/projects/${p.id}/cluster_agents`,
    },
    ...(owner ? { owner: basicUser(gl, owner) } : {}),
    empty_repo: defaultBranch === null,
    archived: false,
    resolve_outdated_diff_discussions: false,
    container_registry_enabled: false,
    issues_enabled: true,
    merge_requests_enabled: true,
    wiki_enabled: true,
    jobs_enabled: true,
    snippets_enabled: true,
    creator_id: owner?.id ?? gl.state.data.users[0]?.id ?? 1,
    import_status: 'none',
    shared_runners_enabled: true,
    open_issues_count: 0,
    public_jobs: true,
    shared_with_groups: [],
    only_allow_merge_if_pipeline_succeeds: false,
    request_access_enabled: true,
    merge_method: 'merge',
    squash_option: 'default_off',
    ci_config_path: null,
    permissions: {
      project_access: access(c ? gl.state.projectMemberLevel(name, p) : 0),
      group_access: access(c && g ? gl.state.groupLevel(name, g) : 0),
    },
  }
}

export function hook(gl: Gl, h: GlHook) {
  return {
    id: h.id,
    url: h.url,
    name: h.name,
    description: h.description,
    project_id: h.projectId,
    push_events: h.pushEvents,
    push_events_branch_filter: h.pushEventsBranchFilter,
    branch_filter_strategy: h.branchFilterStrategy,
    issues_events: false,
    confidential_issues_events: false,
    merge_requests_events: h.mergeRequestsEvents,
    tag_push_events: h.tagPushEvents,
    note_events: false,
    confidential_note_events: false,
    job_events: false,
    pipeline_events: false,
    wiki_page_events: false,
    deployment_events: false,
    releases_events: false,
    feature_flag_events: false,
    enable_ssl_verification: h.enableSslVerification,
    repository_update_events: false,
    alert_status: 'executable',
    disabled_until: null,
    url_variables: [],
    created_at: h.createdAt,
    resource_access_token_events: false,
    custom_webhook_template: null,
    custom_headers: [],
  }
}

export function application(a: GlApp, withSecret: boolean) {
  return {
    id: a.id,
    application_id: a.uid,
    application_name: a.name,
    ...(withSecret ? { secret: a.secret } : {}),
    callback_url: a.redirectUri,
    confidential: a.confidential,
  }
}

/** `GET /personal_access_tokens/self`. */
export function patSelf(gl: Gl, t: GlToken, user: GlUser) {
  const expired = t.expiresAt !== undefined && t.expiresAt <= gl.now()
  return {
    id: t.id,
    name: t.name,
    revoked: t.revoked,
    created_at: t.createdAt,
    description: null,
    scopes: t.scopes,
    user_id: user.id,
    last_used_at: t.lastUsedAt,
    active: !t.revoked && !expired,
    expires_at: dateOnly(t.expiresAt),
  }
}
