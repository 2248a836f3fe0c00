/**
 * The sandbox GitHub is only useful if it answers like GitHub: every REST answer it gives (app
 * JWT endpoints, installation and user token endpoints, errors) is validated against GitHub's
 * official OpenAPI description (`@octokit/openapi` subsets in ../shared/spec/github): the
 * api.github.com one with the API at the root, and GHES 3.19's with `--enterprise` (`/api/v3`).
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appJwt,
  browser,
  field,
  mintToken,
  seedGhWorld,
  startGhSandbox,
  userToken,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'
import { openApiValidator } from '../helpers/openapi.js'

const SPEC = join(import.meta.dirname, '..', '..', '..', 'shared', 'spec', 'github')

for (const mode of ['api.github.com', 'ghes-3.19'] as const) {
  const enterprise = mode !== 'api.github.com'
  const file = enterprise ? 'rest-ghes-3.19.subset.json' : 'rest-api.github.com.subset.json'
  const { expectValid } = openApiValidator(join(SPEC, file), `github-${mode}`)

  describe(`sandbox GitHub answers match ${file}`, { timeout: 90_000 }, () => {
    let sb: GhSandbox
    let world: GhWorld
    let jwt: string
    let token: string
    let user: string
    const seen = new Set<string>()
    beforeAll(async () => {
      sb = await startGhSandbox({ enterprise })
      world = await seedGhWorld(sb)
      await sb.admin('pulls', {
        owner: 'acme',
        repo: 'app',
        title: 'A feature',
        head: 'feature/x',
        user: 'alice',
      })
      jwt = appJwt(world.app)
      token = String((await mintToken(sb, world.app, world.installationId)).json['token'])
      user = (await userToken(sb, world.app, world.alice)).access_token
    })
    afterAll(async () => {
      await sb?.stop()
    })

    async function check(
      template: string,
      path: string,
      o: { method?: string; auth?: string | null; body?: unknown; status?: number } = {},
    ) {
      const method = o.method ?? 'get'
      const auth = o.auth === undefined ? token : o.auth
      const res = await fetch(`${sb.apiUrl}${path}`, {
        method: method.toUpperCase(),
        headers: {
          accept: 'application/vnd.github+json',
          ...(auth ? { authorization: `Bearer ${auth}` } : {}),
          ...(o.body ? { 'content-type': 'application/json' } : {}),
        },
        ...(o.body ? { body: JSON.stringify(o.body) } : {}),
      })
      const text = await res.text()
      expect(res.status, `${method} ${path}: ${text.slice(0, 300)}`).toBe(o.status ?? 200)
      expectValid(template, method, res.status, text ? JSON.parse(text) : undefined)
      seen.add(`${method.toUpperCase()} ${template} ${res.status}`)
      return { json: JSON.parse(text) as unknown, headers: res.headers }
    }

    it('validates the app endpoints (JWT)', async () => {
      const o = { auth: jwt }
      await check('/app', '/app', o)
      // GitHub's description gives GET /app/installations' items an `account` that is allOf Simple
      // User and Enterprise (no account is both: GitHub's own answers fail it); each item is
      // validated as the `installation` that GET /app/installations/{id} describes instead.
      const list = await fetch(`${sb.apiUrl}/app/installations`, {
        headers: { authorization: `Bearer ${jwt}` },
      })
      expect(list.status).toBe(200)
      const items = (await list.json()) as unknown[]
      expect(items.length).toBeGreaterThan(0)
      for (const item of items)
        expectValid('/app/installations/{installation_id}', 'get', 200, item)
      seen.add('GET /app/installations 200')
      await check(
        '/app/installations/{installation_id}',
        `/app/installations/${world.installationId}`,
        o,
      )
      await check('/app/installations/{installation_id}', '/app/installations/99999', {
        ...o,
        status: 404,
      })
      await check(
        '/app/installations/{installation_id}/access_tokens',
        `/app/installations/${world.installationId}/access_tokens`,
        {
          ...o,
          method: 'post',
          body: { repositories: ['app'], permissions: { contents: 'read' } },
          status: 201,
        },
      )
      await check(
        '/app/installations/{installation_id}/access_tokens',
        `/app/installations/${world.installationId}/access_tokens`,
        {
          ...o,
          method: 'post',
          body: { repositories: ['secret'] },
          status: 422,
        },
      )
      await check('/repos/{owner}/{repo}/installation', '/repos/acme/app/installation', o)
      await check('/repos/{owner}/{repo}/installation', '/repos/acme/secret/installation', {
        ...o,
        status: 404,
      })
      await check('/orgs/{org}/installation', '/orgs/acme/installation', o)
      await sb.admin('installations', { app: world.app.slug, account: 'alice' })
      await check('/users/{username}/installation', '/users/alice/installation', o)
      await check('/app/hook/config', '/app/hook/config', o)
      await check('/app/hook/config', '/app/hook/config', {
        ...o,
        method: 'patch',
        body: { url: 'http://127.0.0.1:9/other' },
      })
      await check('/app/hook/deliveries', '/app/hook/deliveries', o)
      const [first] = (await check('/app/hook/deliveries', '/app/hook/deliveries?per_page=1', o))
        .json as { id: number }[]
      const redeliver = await fetch(`${sb.apiUrl}/app/hook/deliveries/${first!.id}/attempts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}` },
      })
      expect(redeliver.status).toBe(202)
    })

    it('validates the manifest conversion', async () => {
      const go = browser(sb.url)
      const manifest = JSON.stringify({
        name: `Conv ${mode}`,
        url: 'https://x.example',
        redirect_url: 'https://x.example/back',
        hook_attributes: { url: 'https://x.example/hook' },
      })
      const page = await go('/settings/apps/new', {
        manifest,
        sign_in: '1',
        login: 'alice',
        password: 'alice-pw',
      })
      const done = await go('/settings/apps/new', {
        manifest,
        confirm: '1',
        authenticity_token: field(page.html, 'authenticity_token')!,
      })
      const code = new URL(done.location!).searchParams.get('code')!
      await check('/app-manifests/{code}/conversions', `/app-manifests/${code}/conversions`, {
        method: 'post',
        auth: null,
        status: 201,
      })
      await check('/app-manifests/{code}/conversions', `/app-manifests/${code}/conversions`, {
        method: 'post',
        auth: null,
        status: 404,
      })
    })

    it('validates the repository endpoints (installation token)', async () => {
      const { json: repos } = await check(
        '/installation/repositories',
        '/installation/repositories',
      )
      expect((repos as { total_count: number }).total_count).toBe(2)
      const paged = await check(
        '/installation/repositories',
        '/installation/repositories?per_page=1',
      )
      expect(paged.headers.get('link')).toMatch(/rel="next"/)
      await check('/repos/{owner}/{repo}', '/repos/acme/app')
      await check('/repos/{owner}/{repo}', '/repos/acme/secret', { status: 404 })
      await check('/repos/{owner}/{repo}/branches', '/repos/acme/app/branches')
      const b = await check('/repos/{owner}/{repo}/branches', '/repos/acme/app/branches?per_page=1')
      expect(b.headers.get('link')).toMatch(/rel="next"/)
      await check('/repos/{owner}/{repo}/branches/{branch}', '/repos/acme/app/branches/main')
      await check('/repos/{owner}/{repo}/branches/{branch}', '/repos/acme/app/branches/feature%2Fx')
      await check('/repos/{owner}/{repo}/branches/{branch}', '/repos/acme/app/branches/nope', {
        status: 404,
      })
      await check('/repos/{owner}/{repo}/commits', '/repos/acme/app/commits')
      await check(
        '/repos/{owner}/{repo}/commits',
        '/repos/acme/app/commits?sha=feature/x&per_page=1',
      )
      await check(
        '/repos/{owner}/{repo}/commits/{ref}',
        `/repos/acme/app/commits/${world.commits.second}`,
      )
      await check(
        '/repos/{owner}/{repo}/commits/{ref}',
        `/repos/acme/app/commits/${world.commits.first.slice(0, 7)}`,
      )
      await check('/repos/{owner}/{repo}/commits/{ref}', '/repos/acme/app/commits/main')
      const cmp = await check(
        '/repos/{owner}/{repo}/compare/{basehead}',
        `/repos/acme/app/compare/${world.commits.first}...${world.commits.second}`,
      )
      expect(cmp.json).toMatchObject({ status: 'ahead', ahead_by: 1, behind_by: 0 })
      const div = await check(
        '/repos/{owner}/{repo}/compare/{basehead}',
        '/repos/acme/app/compare/feature/x...main',
      )
      expect(div.json).toMatchObject({ status: 'behind', ahead_by: 0, behind_by: 1 })
      await check(
        '/repos/{owner}/{repo}/compare/{basehead}',
        '/repos/acme/app/compare/main...nope',
        { status: 404 },
      )
      await check('/repos/{owner}/{repo}/git/ref/{ref}', '/repos/acme/app/git/ref/heads/main')
      await check('/repos/{owner}/{repo}/git/ref/{ref}', '/repos/acme/app/git/ref/heads/feature/x')
      await check('/repos/{owner}/{repo}/git/ref/{ref}', '/repos/acme/app/git/ref/heads/nope', {
        status: 404,
      })
      await check(
        '/repos/{owner}/{repo}/git/matching-refs/{ref}',
        '/repos/acme/app/git/matching-refs/heads/',
      )
      await check(
        '/repos/{owner}/{repo}/git/matching-refs/{ref}',
        '/repos/acme/app/git/matching-refs/tags',
      )
      await check('/repos/{owner}/{repo}/pulls', '/repos/acme/app/pulls')
      await check('/repos/{owner}/{repo}/pulls', '/repos/acme/app/pulls?state=all&direction=asc')
      await check('/repos/{owner}/{repo}/pulls/{pull_number}', '/repos/acme/app/pulls/1')
      await check('/rate_limit', '/rate_limit')
      const zip = await fetch(`${sb.apiUrl}/repos/acme/app/zipball/main`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
      })
      expect(zip.status).toBe(302)
      const tar = await fetch(`${sb.apiUrl}/repos/acme/app/tarball/main`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
      })
      expect(tar.status).toBe(302)
    })

    it('validates a merged pull request and the endpoints of a user token', async () => {
      await sb.admin('pulls/acme/app/1/merge', { user: 'alice' })
      await check('/repos/{owner}/{repo}/pulls/{pull_number}', '/repos/acme/app/pulls/1')
      await check('/user', '/user', { auth: user })
      const { json } = await check('/user/installations', '/user/installations', { auth: user })
      expect((json as { total_count: number }).total_count).toBeGreaterThan(0)
      await check(
        '/user/installations/{installation_id}/repositories',
        `/user/installations/${world.installationId}/repositories`,
        { auth: user },
      )
      await check('/repos/{owner}/{repo}', '/repos/acme/app', { auth: user })
    })

    it('covered every path of the description it could', () => {
      // Every documented path and method the sandbox serves, once at least (DELETE installation and
      // the redelivery answer 204/202 with no body; POST pulls is not served).
      const templates = new Set([...seen].map((s) => s.split(' ').slice(0, 2).join(' ')))
      for (const t of [
        'POST /app-manifests/{code}/conversions',
        'GET /app',
        'GET /app/installations',
        'GET /app/installations/{installation_id}',
        'POST /app/installations/{installation_id}/access_tokens',
        'GET /repos/{owner}/{repo}/installation',
        'GET /orgs/{org}/installation',
        'GET /users/{username}/installation',
        'GET /user/installations',
        'GET /installation/repositories',
        'GET /user/installations/{installation_id}/repositories',
        'GET /repos/{owner}/{repo}',
        'GET /repos/{owner}/{repo}/branches',
        'GET /repos/{owner}/{repo}/branches/{branch}',
        'GET /repos/{owner}/{repo}/commits',
        'GET /repos/{owner}/{repo}/commits/{ref}',
        'GET /repos/{owner}/{repo}/compare/{basehead}',
        'GET /repos/{owner}/{repo}/git/ref/{ref}',
        'GET /repos/{owner}/{repo}/git/matching-refs/{ref}',
        'GET /app/hook/config',
        'PATCH /app/hook/config',
        'GET /app/hook/deliveries',
        'GET /user',
        'GET /repos/{owner}/{repo}/pulls',
        'GET /repos/{owner}/{repo}/pulls/{pull_number}',
        'GET /rate_limit',
      ])
        expect(templates, t).toContain(t)
    })
  })
}
