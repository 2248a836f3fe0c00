/**
 * Real GitLab answers that differ from its documented examples, as the sandbox GitLab models
 * them, and what the GitLab adapter makes of them:
 * - a caller who may not read a project's code gets no `default_branch`, `readme_url` or
 *   `forks_count` (GitLab's BasicProjectDetails; a Guest on a private project);
 * - with the `hideDefaultBranch` setting, group access tokens get projects that way too, as on
 *   GitLab 16.7.5-ee (gitlab-org/gitlab#442150): the adapter then reports no default branch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { selfManagedEndpoints } from '../../src/providers/gitlab/client.js'
import { GitLabProvider } from '../../src/providers/gitlab/gitlab-provider.js'
import { startGlSandbox, type GlSandbox } from '../helpers/gitlab-sandbox.js'

const API = 'acme/platform/api'
const ENCODED = encodeURIComponent(API)

describe('sandbox GitLab quirks', { timeout: 60_000 }, () => {
  let sb: GlSandbox
  let groupToken: string
  const project = async (token: string, path = `/projects/${ENCODED}`) => {
    const r = await sb.get(path, token)
    expect(r.status).toBe(200)
    return (await r.json()) as Record<string, unknown>
  }

  beforeAll(async () => {
    sb = await startGlSandbox({ selfManaged: true })
    // A group access token good enough for Junction: api scope, Maintainer on acme.
    const made = await sb.admin<{ token: string }>('tokens', {
      kind: 'group',
      target: 'acme',
      scopes: ['api'],
      accessLevel: 40,
    })
    groupToken = made.token
  })
  afterEach(() => sb.admin('settings', { hideDefaultBranch: null }, 'PUT'))
  afterAll(() => sb?.stop())

  it('answers a Guest on a private project without default_branch, readme_url, forks_count', async () => {
    const guest = await project(sb.token('dave-api'))
    expect(guest['path_with_namespace']).toBe(API)
    for (const k of ['default_branch', 'readme_url', 'forks_count'])
      expect(guest).not.toHaveProperty(k)
    const owner = await project(sb.token('alice-api'))
    expect(owner).toMatchObject({ default_branch: 'main', forks_count: 0 })
    // A public project's code is anyone's to read.
    const site = await project(sb.token('dave-api'), '/projects/acme%2Fwebsite')
    expect(site).toHaveProperty('default_branch')
  })

  it('hides default_branch from group access tokens with hideDefaultBranch (#442150)', async () => {
    expect(await project(groupToken)).toMatchObject({ default_branch: 'main' })
    await sb.admin('settings', { hideDefaultBranch: true }, 'PUT')
    const p = await project(groupToken)
    expect(p).not.toHaveProperty('default_branch')
    expect(p['permissions']).toMatchObject({ group_access: { access_level: 40 } })
    const listed = (await (
      await sb.get('/groups/acme/projects?include_subgroups=true&simple=true', groupToken)
    ).json()) as Record<string, unknown>[]
    expect(listed.find((x) => x['path_with_namespace'] === API)).not.toHaveProperty(
      'default_branch',
    )
    // Personal tokens are not affected.
    expect(await project(sb.token('alice-api'))).toMatchObject({ default_branch: 'main' })

    // The adapter still reads the project, but reports no default branch for it.
    const gl = new GitLabProvider({
      type: 'GitLabSelfManaged',
      endpoints: selfManagedEndpoints(sb.url),
    })
    const c = { kind: 'access-token' as const, accessToken: groupToken }
    expect(await gl.getRepository(c, API)).toMatchObject({ fullName: API, defaultBranch: null })
    const repos = await gl.listRepositories(c, 'acme')
    expect(repos.items.find((r) => r.fullName === API)?.defaultBranch).toBeNull()
  })
})
