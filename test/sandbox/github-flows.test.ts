/**
 * The sandbox GitHub's browser flows through a plain HTTP client (cookies by hand): the manifest
 * flow from the form post to the conversion (single use), for a user and for an organization,
 * and the app install page for all or selected repositories, with its setup redirect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appJwt,
  browser,
  field,
  hookReceiver,
  seedGhWorld,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'

describe('sandbox GitHub browser flows', { timeout: 90_000 }, () => {
  let sb: GhSandbox
  let world: GhWorld
  let hooks: Awaited<ReturnType<typeof hookReceiver>>
  beforeAll(async () => {
    hooks = await hookReceiver()
    sb = await startGhSandbox()
    world = await seedGhWorld(sb, { webhookUrl: hooks.url })
  })
  afterAll(async () => {
    await sb?.stop()
    await hooks?.close()
  })

  it('registers an app from a manifest, and converts its code once', async () => {
    const go = browser(sb.url)
    const manifest = JSON.stringify({
      name: 'Manifest App',
      url: 'https://junction.example',
      hook_attributes: { url: 'https://junction.example/hook' },
      redirect_url: 'https://junction.example/back',
      setup_url: 'https://junction.example/setup',
      callback_urls: ['https://junction.example/callback'],
      public: false,
      default_permissions: { contents: 'read', pull_requests: 'read' },
      default_events: ['push', 'pull_request'],
    })
    const signIn = await go('/settings/apps/new?state=st-1', { manifest })
    expect(signIn.status).toBe(200)
    expect(signIn.html).toContain('Sign in')
    const wrong = await go('/settings/apps/new?state=st-1', {
      manifest,
      sign_in: '1',
      login: 'alice',
      password: 'nope',
    })
    expect(wrong.status).toBe(401)
    const confirm = await go('/settings/apps/new?state=st-1', {
      manifest,
      sign_in: '1',
      login: 'alice',
      password: 'alice-pw',
    })
    expect(confirm.html).toContain('Manifest App')
    // Without the page's authenticity token nothing is made.
    const forged = await go('/settings/apps/new?state=st-1', {
      manifest,
      confirm: '1',
      authenticity_token: 'x',
    })
    expect(forged.status).toBe(200)
    expect(forged.location).toBeNull()
    const done = await go('/settings/apps/new?state=st-1', {
      manifest: field(confirm.html, 'manifest')!,
      authenticity_token: field(confirm.html, 'authenticity_token')!,
      confirm: '1',
    })
    expect(done.status).toBe(302)
    const back = new URL(done.location!)
    expect(back.origin + back.pathname).toBe('https://junction.example/back')
    expect(back.searchParams.get('state')).toBe('st-1')
    const code = back.searchParams.get('code')!
    const conv = await fetch(`${sb.apiUrl}/app-manifests/${code}/conversions`, { method: 'POST' })
    expect(conv.status).toBe(201)
    const app = (await conv.json()) as Record<string, unknown> & { owner: { login: string } }
    expect(app).toMatchObject({
      name: 'Manifest App',
      slug: 'manifest-app',
      events: ['push', 'pull_request'],
    })
    expect(app.owner.login).toBe('alice')
    expect(String(app['pem'])).toContain('PRIVATE KEY')
    expect(String(app['webhook_secret'])).toMatch(/^[0-9a-f]{40}$/)
    // The PEM signs JWTs the sandbox accepts.
    const jwt = appJwt(
      { id: Number(app['id']), privateKey: String(app['pem']) } as never,
      String(app['client_id']),
    )
    const me = await fetch(`${sb.apiUrl}/app`, { headers: { authorization: `Bearer ${jwt}` } })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { slug: string }).slug).toBe('manifest-app')
    const again = await fetch(`${sb.apiUrl}/app-manifests/${code}/conversions`, { method: 'POST' })
    expect(again.status).toBe(404)
    // The same name again is refused.
    const dup = await go('/settings/apps/new', {
      manifest,
      authenticity_token: field(confirm.html, 'authenticity_token')!,
      confirm: '1',
    })
    expect(dup.status).toBe(422)
  })

  it('registers an organization app only for its admins', async () => {
    const manifest = JSON.stringify({
      name: 'Org App',
      url: 'https://x.example',
      redirect_url: 'https://x.example/back',
    })
    const bob = browser(sb.url)
    const refused = await bob('/organizations/acme/settings/apps/new', {
      manifest,
      sign_in: '1',
      login: 'bob',
      password: 'bob-pw',
    })
    expect(refused.status).toBe(403)
    const alice = browser(sb.url)
    const page = await alice('/organizations/acme/settings/apps/new', {
      manifest,
      sign_in: '1',
      login: 'alice',
      password: 'alice-pw',
    })
    const done = await alice('/organizations/acme/settings/apps/new', {
      manifest,
      confirm: '1',
      authenticity_token: field(page.html, 'authenticity_token')!,
    })
    const code = new URL(done.location!).searchParams.get('code')!
    const conv = (await (
      await fetch(`${sb.apiUrl}/app-manifests/${code}/conversions`, { method: 'POST' })
    ).json()) as { owner: { login: string; type: string } }
    expect(conv.owner).toMatchObject({ login: 'acme', type: 'Organization' })
  })

  it('installs the app on an account with selected repositories and redirects to the setup URL', async () => {
    await sb
      .admin('repositories', { owner: 'bob', name: 'tool', files: { 't.txt': 't\n' } })
      .catch(() => undefined)
    const go = browser(sb.url)
    const page = await go(`/apps/${world.app.slug}/installations/new?state=s-9`)
    expect(page.html).toContain('Sign in')
    const choose = await go(`/apps/${world.app.slug}/installations/new?state=s-9`, {
      sign_in: '1',
      login: 'bob',
      password: 'bob-pw',
      state: 's-9',
    })
    // bob administers only himself (a member of acme, not an admin).
    expect(choose.html).toContain('data-account="bob"')
    expect(choose.html).not.toContain('data-account="acme"')
    const tool = sb.state.repo('bob', 'tool')!
    const token = field(choose.html, 'authenticity_token')!
    // A private app (alice's) cannot be installed by bob on his account.
    const refused = await go(`/apps/${world.app.slug}/installations/new`, {
      target: 'bob',
      repository_selection: 'all',
      install: '1',
      authenticity_token: token,
    })
    expect(refused.status).toBe(403)
    await sb.admin('apps', {
      name: 'Public CI',
      owner: 'alice',
      public: true,
      setupUrl: 'https://ci.example/setup',
      webhookUrl: hooks.url,
      webhookSecret: 'p',
    })
    const before = hooks.got.length
    const done = await go(`/apps/public-ci/installations/new`, {
      target: 'bob',
      repository_selection: 'selected',
      repository_ids: [String(tool.id)],
      install: '1',
      state: 's-9',
      authenticity_token: token,
    })
    expect(done.status).toBe(302)
    const setup = new URL(done.location!)
    expect(setup.origin + setup.pathname).toBe('https://ci.example/setup')
    expect(setup.searchParams.get('setup_action')).toBe('install')
    expect(setup.searchParams.get('state')).toBe('s-9')
    const id = Number(setup.searchParams.get('installation_id'))
    const i = sb.state.installation(id)!
    expect(i).toMatchObject({
      account: 'bob',
      repositorySelection: 'selected',
      repositoryIds: [tool.id],
    })
    await hooks.waitFor(before + 1)
    const created = hooks
      .events('installation')
      .find((e) => (e['installation'] as { id: number }).id === id)
    expect(created?.['action']).toBe('created')
  })

  it('installing again on the same account updates the installation (all repositories)', async () => {
    const go = browser(sb.url)
    const page = await go(`/apps/${world.app.slug}/installations/new`, {
      sign_in: '1',
      login: 'alice',
      password: 'alice-pw',
    })
    expect(page.html).toContain('data-account="acme"')
    const done = await go(`/apps/${world.app.slug}/installations/new`, {
      target: 'acme',
      repository_selection: 'all',
      install: '1',
      authenticity_token: field(page.html, 'authenticity_token')!,
    })
    // An update goes back to the setup URL only when the app asks for it (not this one).
    expect(done.status).toBe(200)
    expect(sb.state.installation(world.installationId)!.repositorySelection).toBe('all')
    await sb.settled()
    const added = hooks.events('installation_repositories').at(-1)!
    expect(added['action']).toBe('added')
    expect((added['repositories_added'] as { name: string }[]).map((r) => r.name)).toEqual([
      'secret',
    ])
  })
})
