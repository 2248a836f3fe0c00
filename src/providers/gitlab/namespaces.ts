/**
 * @module providers/gitlab/namespaces
 * Installation targets and their projects. A target is a group (any depth, `acme/platform`) or a
 * user's own namespace, where the credential's user has at least Maintainer (40: webhooks need
 * it; a user's own namespace counts). Its repositories are the projects in it, subgroups
 * included, that the credential reaches with at least Maintainer. A credential narrowed to one
 * project (`reach.repository`, its path below the target) reaches only that one.
 *
 * Access tokens (personal, group, project) are checked for what Junction needs before anything
 * else: `GET /personal_access_tokens/self` names their scopes, and one without `api` (webhooks,
 * and Git over HTTPS with it) is refused naming it.
 */
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import type { InstallationTarget, Page, ProviderCredentials, RepositoryInfo } from '../provider.js'
import { MAINTAINER, type GitLabClient } from './client.js'
import {
  accessLevel,
  groupTarget,
  toRepository,
  userTarget,
  type GlGroup,
  type GlProject,
  type GlUser,
} from './convert.js'
import { isNamespacePath, namespaceId, NUMERIC_ID, projectId } from './urls.js'

export const REQUIRED_SCOPE = 'api'

const lower = (s: string) => s.toLowerCase()

/** Whether project `fullName` lies within namespace `target` (subgroups included). */
export function withinTarget(fullName: string, target: string): boolean {
  return lower(fullName).startsWith(`${lower(target)}/`)
}

export function currentUser(gl: GitLabClient, c: ProviderCredentials): Promise<GlUser> {
  return gl.json<GlUser>(c, `${gl.apiUrl}/user`)
}

/**
 * An access token's scopes (`GET /personal_access_tokens/self`, GitLab 15.5 and later; older
 * instances answer 404 and are not checked here: their refusals come with the first use).
 * @throws ProviderRequestFailed naming the missing scope; ProviderAuthFailed when revoked
 */
export async function checkScopes(gl: GitLabClient, c: ProviderCredentials): Promise<void> {
  if (c.kind !== 'access-token') return
  const res = await gl.call(c, `${gl.apiUrl}/personal_access_tokens/self`, { accept: [404] })
  if (res.status === 404) {
    await res.body?.cancel()
    return
  }
  const t = (await res.json()) as { scopes?: string[]; active?: boolean; revoked?: boolean }
  if (t.revoked === true || t.active === false)
    throw new ProviderAuthFailed('GitLab says this token is revoked or expired', 401)
  const scopes = Array.isArray(t.scopes) ? t.scopes : []
  if (!scopes.includes(REQUIRED_SCOPE))
    throw new ProviderRequestFailed(
      `The token lacks the ${REQUIRED_SCOPE} scope, which Junction needs to register webhooks and read the repositories (it has: ${scopes.join(', ').slice(0, 200) || 'none'})`,
    )
}

/** The user's own namespace and the groups where they have at least Maintainer. */
export async function listInstallationTargets(
  gl: GitLabClient,
  c: ProviderCredentials,
): Promise<InstallationTarget[]> {
  const user = await currentUser(gl, c)
  const groups = await gl.all<GlGroup, InstallationTarget>(
    c,
    `${gl.apiUrl}/groups?min_access_level=${MAINTAINER}&per_page=100&order_by=id&sort=asc`,
    (g) => groupTarget(g, true),
  )
  return [userTarget(user), ...groups]
}

/**
 * The groups the credential's user is a member of with at least `min` (inherited memberships
 * included, as GitLab's `min_access_level` counts them), every page.
 */
function groupsWith(gl: GitLabClient, c: ProviderCredentials, min: number): Promise<GlGroup[]> {
  return gl.all<GlGroup, GlGroup>(
    c,
    `${gl.apiUrl}/groups?min_access_level=${min}&per_page=100&order_by=id&sort=asc`,
    (g) => g,
  )
}

/**
 * The group at `path` and the user's role there: Maintainer or more, a lesser member, or none
 * (GitLab's group listings by `min_access_level`, which also name groups reached only through a
 * parent's membership).
 */
async function groupRole(
  gl: GitLabClient,
  c: ProviderCredentials,
  path: string,
): Promise<{ group: GlGroup; administrator: boolean } | undefined> {
  const same = (g: GlGroup) => lower(g.full_path) === lower(path)
  const maintained = (await groupsWith(gl, c, MAINTAINER)).find(same)
  if (maintained) return { group: maintained, administrator: true }
  const member = (await groupsWith(gl, c, 10)).find(same)
  return member ? { group: member, administrator: false } : undefined
}

/** A group by full path, or undefined when the credential cannot see it. */
async function findGroup(
  gl: GitLabClient,
  c: ProviderCredentials,
  path: string,
): Promise<GlGroup | undefined> {
  const res = await gl.call(c, `${gl.apiUrl}/groups/${namespaceId(path)}?with_projects=false`, {
    accept: [403, 404],
  })
  if (!res.ok) {
    await res.body?.cancel()
    return undefined
  }
  return (await res.json()) as GlGroup
}

/**
 * Checks the credential against `target` (a namespace full path) and, when narrowed, its one
 * project (which needs Maintainer: its webhook is registered with this credential). The target's
 * `administrator` says whether the user has Maintainer on the whole namespace.
 */
export async function verifyTarget(
  gl: GitLabClient,
  c: ProviderCredentials,
  target: string,
): Promise<InstallationTarget> {
  if (!isNamespacePath(target))
    throw new ProviderNotFound(`'${target.slice(0, 100)}' is not a GitLab group or namespace path`)
  const repo = c.reach?.repository
  if (c.kind === 'access-token' && c.level === 'repository' && !repo)
    throw new ProviderRequestFailed('A project access token reaches one project: name it')
  await checkScopes(gl, c)
  const user = await currentUser(gl, c)
  if (repo !== undefined) {
    const p = await gl.json<GlProject>(c, gl.project(`${target}/${repo}`))
    if (!withinTarget(p.path_with_namespace, target))
      throw new ProviderNotFound(`Project ${target}/${repo} is not in ${target}`)
    if (accessLevel(p) < MAINTAINER)
      throw new ProviderRequestFailed(
        `The token's user needs at least the Maintainer role on ${p.path_with_namespace} (webhooks are registered with it)`,
      )
  }
  if (lower(target) === lower(user.username)) return userTarget(user)
  namespaceId(target)
  const found = await groupRole(gl, c, target)
  if (found) return groupTarget(found.group, found.administrator)
  if (repo === undefined)
    throw new ProviderNotFound(
      `The token's user is not a member of a GitLab group ${target.slice(0, 100)}`,
    )
  // Narrowed to a project the user reaches without a group membership (or a project token's bot,
  // which may not see a private group above its project).
  const group = await findGroup(gl, c, target)
  return group
    ? groupTarget(group, false)
    : { id: `group-path:${lower(target)}`, slug: target, name: target, administrator: false }
}

/**
 * The target's projects reached with at least Maintainer, subgroups included: a group's
 * (`/groups/:id/projects`), else the user's own (`/projects?owned=true`); one project for a narrowed
 * credential. `next` is the next page's URL (opaque to callers).
 */
export async function listRepositories(
  gl: GitLabClient,
  c: ProviderCredentials,
  owner: string,
  next?: string,
): Promise<Page<RepositoryInfo>> {
  const repo = c.reach?.repository
  if (repo !== undefined) {
    if (next !== undefined) return { items: [] }
    const p = await gl.json<GlProject>(c, gl.project(`${owner}/${repo}`))
    return { items: [toRepository(p, gl.webUrl)] }
  }
  const query = `min_access_level=${MAINTAINER}&per_page=100&order_by=id&sort=asc`
  const map = (p: GlProject) => toRepository(p, gl.webUrl)
  let page: Page<RepositoryInfo>
  if (next !== undefined) page = await gl.page(c, next, map)
  else {
    const ns = namespaceId(owner)
    let url = `${gl.apiUrl}/groups/${ns}/projects?include_subgroups=true&with_shared=false&${query}`
    let res = await gl.call(c, url, { accept: [404] })
    if (res.status === 404) {
      // Not a group: the user's own namespace (verifyTarget admits no other user's).
      await res.body?.cancel()
      url = `${gl.apiUrl}/projects?owned=true&${query}`
      res = await gl.call(c, url)
    }
    page = await gl.pageOf(res, url, map)
  }
  page.items = page.items.filter((r) => withinTarget(r.fullName, owner))
  return page
}

/**
 * Refuses a project outside a narrowed credential's one project (defence in depth: the connect
 * service checks first). A numeric id is read to learn its path.
 */
export async function inReach(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
): Promise<void> {
  const repo = c.reach?.repository
  if (repo === undefined) return
  projectId(fullName)
  let path = fullName
  if (NUMERIC_ID.test(fullName))
    path = (await gl.json<GlProject>(c, gl.project(fullName))).path_with_namespace
  if (!lower(path).endsWith(`/${lower(repo)}`))
    throw new ProviderNotFound(
      `${fullName.slice(0, 200)} is outside this credential's reach (project ${repo})`,
    )
}
