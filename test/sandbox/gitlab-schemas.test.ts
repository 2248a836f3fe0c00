/**
 * The sandbox GitLab is only useful if it answers like GitLab: every REST and OAuth answer it
 * gives is validated against a schema in test/fixtures/gitlab/ derived from GitLab's reference
 * (each file's `$comment` names the .md file and section in /work/shared/spec/gitlab/), in
 * gitlab.com mode and self-managed mode.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authorize, startGlSandbox, tokenCall, type GlSandbox } from '../helpers/gitlab-sandbox.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'gitlab')
const ajv = new Ajv2020({ strict: false, allErrors: true })

function expectSchema(file: string, body: unknown): void {
  const schema = JSON.parse(readFileSync(join(FIXTURES, `${file}.json`), 'utf8')) as object
  const validate = ajv.compile(schema)
  const ok = validate(body)
  expect(ok, `${file}: ${JSON.stringify(validate.errors?.slice(0, 5))}`).toBe(true)
}

const API = 'acme%2Fplatform%2Fapi'

describe('sandbox GitLab answers match the GitLab reference', { timeout: 90_000 }, () => {
  let sb: GlSandbox
  let alice: string
  beforeAll(async () => {
    sb = await startGlSandbox({ selfManaged: true })
    alice = sb.token('alice-api')
    await sb.admin(`projects/${API}/merge_requests`, {
      source: 'feature/login',
      title: 'Add login',
      author: 'alice',
      assignees: ['bob'],
    })
  })
  afterAll(async () => {
    await sb?.stop()
  })

  async function check(file: string, path: string, o: { token?: string; status?: number } = {}) {
    const r = await sb.get(path, o.token ?? alice)
    const text = await r.text()
    expect(r.status, `${path}: ${text.slice(0, 300)}`).toBe(o.status ?? 200)
    const body = JSON.parse(text) as unknown
    expectSchema(file, body)
    return body
  }

  it('validates user, groups and projects', async () => {
    await check('user', '/user')
    await check('groups', '/groups')
    await check('group', '/groups/acme%2Fplatform')
    await check('group', '/groups/acme')
    await check('projects', '/groups/acme/projects?include_subgroups=true')
    await check('projects', '/projects?membership=true')
    await check('projects-simple', '/projects?membership=true&simple=true&min_access_level=30')
    const p = (await check('project', `/projects/${API}`)) as Record<string, unknown>
    expect(p['path_with_namespace']).toBe('acme/platform/api')
    expect(p['default_branch']).toBe('main')
    expect(p['permissions']).toEqual({
      project_access: null,
      group_access: { access_level: 50, notification_level: 3 },
    })
    await check('personal-access-token', '/personal_access_tokens/self')
    // A project in a user namespace (with `owner`), a Guest's and a bot's views, an administrator.
    const notes = (await check('project', '/projects/alice%2Fnotes')) as Record<string, unknown>
    expect(notes['owner']).toMatchObject({ username: 'alice' })
    await check('project', `/projects/${API}`, { token: sb.token('dave-api') })
    await check('projects', '/projects?membership=true', { token: sb.token('api-project-token') })
    const bot = sb.token('acme-group-token')
    await check('personal-access-token', '/personal_access_tokens/self', { token: bot })
    const root = (await check('user', '/user', { token: sb.token('root-admin') })) as {
      is_admin?: boolean
    }
    expect(root.is_admin).toBe(true)
  })

  it('validates branches, commits, diffs, compare', async () => {
    const { second } = sb.world.commits
    await check('branches', `/projects/${API}/repository/branches`)
    await check('branch', `/projects/${API}/repository/branches/release%2F1.0`)
    await check('commit', `/projects/${API}/repository/commits/${second}`)
    await check('commit', `/projects/${API}/repository/commits/main`)
    await check('commit-diff', `/projects/${API}/repository/commits/${second}/diff`)
    const c = (await check(
      'compare',
      `/projects/${API}/repository/compare?from=release%2F1.0&to=feature%2Flogin`,
    )) as { diffs: { new_file: boolean; new_path: string }[]; commits: unknown[] }
    expect(c.diffs.find((d) => d.new_path === 'src/login.js')?.new_file).toBe(true)
    await check('compare', `/projects/${API}/repository/compare?from=main&to=main`)
  })

  it('validates hooks (the secret token never answered) and merge requests', async () => {
    const made = await sb.get(`/projects/${API}/hooks`, alice, {
      method: 'POST',
      body: { url: 'http://127.0.0.1:9/hook', token: 's3cret', merge_requests_events: true },
    })
    expect(made.status).toBe(201)
    const hook = (await made.json()) as { id: number }
    expectSchema('hook', hook)
    await check('hook', `/projects/${API}/hooks/${hook.id}`)
    await check('hooks', `/projects/${API}/hooks`)
    const put = await sb.get(`/projects/${API}/hooks/${hook.id}`, alice, {
      method: 'PUT',
      body: { url: 'http://127.0.0.1:9/hook', tag_push_events: true },
    })
    expectSchema('hook', await put.json())
    await check('merge-requests', `/projects/${API}/merge_requests?state=opened`)
    await check('merge-request', `/projects/${API}/merge_requests/1`)
  })

  it('validates applications (self-managed administrator) and OAuth answers', async () => {
    const root = sb.token('root-admin')
    const made = await sb.get('/applications', root, {
      method: 'POST',
      body: { name: 'CI', redirect_uri: 'http://127.0.0.1:9/cb', scopes: 'api read_user' },
    })
    expect(made.status).toBe(201)
    expectSchema('application', await made.json())
    await check('applications', '/applications', { token: root })
    const code = await authorize(sb)
    const app = sb.world.app
    const t = await tokenCall(sb, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: app.redirectUri,
      client_id: app.clientId,
      client_secret: app.secret,
    })
    expectSchema('oauth-token', t.json)
    const info = await fetch(`${sb.url}/oauth/token/info`, {
      headers: { authorization: `Bearer ${String(t.json['access_token'])}` },
    })
    expectSchema('token-info', await info.json())
    const bad = await tokenCall(sb, { ...t.json, grant_type: 'authorization_code', code })
    expectSchema('oauth-error', bad.json)
  })

  it('validates error bodies', async () => {
    await check('error-message', `/projects/acme%2Fnope`, { status: 404 })
    await check('error-message', '/user', { token: 'glpat-unknown', status: 401 })
    const { token } = await sb.admin<{ token: string }>('tokens', {
      kind: 'personal',
      username: 'bob',
      scopes: ['read_user'],
    })
    await check('insufficient-scope', `/projects/${API}`, { token, status: 403 })
    await check('error-message', `/projects/${API}/hooks`, {
      token: sb.token('bob-read'),
      status: 403,
    })
  })
})
