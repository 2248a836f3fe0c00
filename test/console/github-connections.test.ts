/**
 * GitHub and GitHub Enterprise Server connections from the console, in headless Chromium, against
 * the sandbox GitHub: the wizard offers both (GitHub Enterprise Server only with an AVAILABLE host,
 * with a "Set up host" link otherwise); creating a GitHub connection sends the browser to the
 * app's install page, where the sandbox's user signs in and installs the app on an organization,
 * and GitHub's redirect brings it back to the connection's page, AVAILABLE with the account
 * recorded; a PENDING connection's "Update pending connection" does the same. For a GitHub
 * Enterprise Server (the sandbox in --enterprise mode): create the host, "Set up host" (the
 * manifest flow registers Junction's app on the server), host AVAILABLE, then a connection on that
 * host through the server's own install page, AVAILABLE.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CodeStarConnectionsClient,
  CreateConnectionCommand,
  GetConnectionCommand,
  GetHostCommand,
  ListConnectionsCommand,
} from '@aws-sdk/client-codestar-connections'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startGitHubSandbox, type GitHubSandbox } from '../../src/sandbox/github/server.js'
import { launchChromium, screenshot } from '../helpers/browser-chromium.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 })

const USER = { login: 'octo', password: 'octo-sandbox-pw' }

async function admin(sb: GitHubSandbox, path: string, body: unknown) {
  const r = await fetch(`${sb.url}/_sandbox/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const json = (await r.json()) as Record<string, unknown>
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`)
  return json
}

/** A user who administers organization acme, which holds repository acme/app. */
async function seed(sb: GitHubSandbox) {
  await admin(sb, 'users', { username: USER.login, password: USER.password, name: 'Octo' })
  await admin(sb, 'orgs', { login: 'acme', name: 'Acme', admins: [USER.login] })
  await admin(sb, 'repositories', { owner: 'acme', name: 'app', files: { 'README.md': '# app\n' } })
}

/** Clicks a submit button and waits until the browser has left the page. */
async function submit(p: Page, name: string | RegExp) {
  const before = p.url()
  await p.getByRole('button', { name }).click()
  await p.waitForURL((u) => u.toString() !== before)
}

/** On the sandbox's install page: signs in when asked, then installs (or saves) on acme. */
async function installOnAcme(p: Page, sandboxUrl: string) {
  // When the handshake could not start, the page says why.
  expect(p.url().startsWith(sandboxUrl), (await p.locator('body').textContent()) ?? '').toBe(true)
  if (await p.getByLabel('Username').count()) {
    await p.getByLabel('Username').fill(USER.login)
    await p.getByLabel('Password').fill(USER.password)
    await p.getByRole('button', { name: 'Sign in' }).click()
    await p.waitForLoadState()
  }
  await p.getByRole('button', { name: /^(Install|Save) on acme$/ }).click()
  // GitHub's redirect: back to Junction's callback, then to the connection's page.
  await p.waitForURL(/\/console\/connection\?/)
}

describe('GitHub connections in the console (Chromium)', () => {
  let gh: GitHubSandbox
  let ghes: GitHubSandbox
  let server: TestServer
  let browser: Browser
  let page: Page
  let sdk: CodeStarConnectionsClient
  const dirs: string[] = []
  const url = (path: string) => `${server.url}${path}`

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) dirs.push(mkdtempSync(join(tmpdir(), 'gh-console-')))
    gh = await startGitHubSandbox({ port: 0, dataDir: dirs[0]!, host: '127.0.0.1' })
    ghes = await startGitHubSandbox({
      port: 0,
      dataDir: dirs[1]!,
      host: '127.0.0.1',
      enterprise: true,
    })
    await seed(gh)
    await seed(ghes)
    // Junction's app on the github.com sandbox, as the manifest flow makes it (user authorization
    // on install); its URLs follow Junction's once its port is known.
    await admin(gh, 'users', { username: 'junction-admin' })
    const app = await admin(gh, 'apps', {
      name: 'Junction',
      owner: 'junction-admin',
      public: true,
      requestOAuthOnInstall: true,
      webhookSecret: 'console-test-webhook-secret',
    })
    const keyFile = join(dirs[2]!, 'app.pem')
    writeFileSync(keyFile, String(app['privateKey']), { mode: 0o600 })
    server = await startTestServer('sqlite', {
      'github-url': gh.url,
      'github-api-url': gh.apiUrl,
      'github-app-id': String(app['id']),
      'github-app-slug': String(app['slug']),
      'github-client-id': String(app['clientId']),
      'github-client-secret': String(app['clientSecret']),
      'github-private-key-file': keyFile,
      'github-webhook-secret': 'console-test-webhook-secret',
    } as never)
    const a = gh.state.app(String(app['slug']))!
    a.setupUrl = `${server.url}/oauth/github/callback`
    a.callbackUrls = [`${server.url}/oauth/github/callback`]
    a.webhookUrl = `${server.url}/webhooks/github`
    gh.state.save()
    sdk = new CodeStarConnectionsClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: server.credentials,
    })
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
    await page.goto(url('/console'))
    await page.getByLabel('Access key ID').fill(server.credentials.accessKeyId)
    await page.getByLabel('Secret access key').fill(server.credentials.secretAccessKey)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(url('/console'))
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await gh?.close()
    await ghes?.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  const status = async (arn: string) =>
    (await sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!

  it('the wizard offers GitHub, and GitHub Enterprise Server only with a host ("Set up host")', async () => {
    await page.goto(url('/console/connections/new'))
    expect(await page.getByRole('radio', { name: 'GitHub', exact: true }).isEnabled()).toBe(true)
    expect(await page.getByRole('radio', { name: /^GitHub Enterprise Server/ }).isEnabled()).toBe(
      true,
    )
    expect(await page.locator('#no-host').textContent()).toMatch(
      /GitHub Enterprise Server connections need an AVAILABLE host/,
    )
    expect(
      await page
        .locator('#no-host')
        .getByRole('link', { name: 'Set up host' })
        .getAttribute('href'),
    ).toBe('/console/hosts/new')
    // Chosen without a host: refused next to the field, nothing created.
    await page.getByRole('radio', { name: /^GitHub Enterprise Server/ }).check()
    await page.getByLabel('Connection name').fill('no-host')
    await page.getByRole('button', { name: 'Create and connect' }).click()
    await page.waitForLoadState()
    expect(await page.locator('#hostArn-error').textContent()).toMatch(/need an AVAILABLE host/)
    expect((await sdk.send(new ListConnectionsCommand({}))).Connections).toEqual([])
  })

  it('creates a GitHub connection: install page, sign in, install on acme, back AVAILABLE', async () => {
    await page.goto(url('/console/connections/new'))
    await page.getByRole('radio', { name: 'GitHub', exact: true }).check()
    await page.getByLabel('Connection name').fill('gh-console')
    await submit(page, 'Create and connect')
    await screenshot(page, 'github-01-install-signin')
    await installOnAcme(page, gh.url)
    await screenshot(page, 'github-02-available')
    expect(await page.locator('h1').textContent()).toMatch(/gh-console\s+AVAILABLE/)
    expect(await page.locator('dd', { hasText: /acme/ }).count()).toBeGreaterThan(0)
    const arn = new URL(page.url()).searchParams.get('arn')!
    const c = await status(arn)
    expect(c.ConnectionStatus).toBe('AVAILABLE')
    expect(c.ProviderType).toBe('GitHub')
  })

  it('"Update pending connection" runs the install handshake for a PENDING GitHub connection', async () => {
    const { ConnectionArn } = await sdk.send(
      new CreateConnectionCommand({ ProviderType: 'GitHub', ConnectionName: 'gh-pending' }),
    )
    await page.goto(url(`/console/connection?arn=${encodeURIComponent(ConnectionArn!)}`))
    expect(await page.locator('h1').textContent()).toMatch(/PENDING/)
    await submit(page, 'Update pending connection')
    // Signed in to the sandbox already: the install page itself (acme shows as installed).
    await installOnAcme(page, gh.url)
    expect(await page.locator('h1').textContent()).toMatch(/gh-pending\s+AVAILABLE/)
    expect((await status(ConnectionArn!)).ConnectionStatus).toBe('AVAILABLE')
  })

  it('GitHub Enterprise Server: create host, Set up host, host AVAILABLE, connection on it AVAILABLE', async () => {
    await page.goto(url('/console/hosts/new'))
    await page.getByLabel('Host name').fill('ghes')
    await page.getByLabel('Provider', { exact: true }).selectOption('GitHubEnterpriseServer')
    await page.getByLabel('Provider endpoint (https URL)').fill(ghes.url)
    await submit(page, 'Create host')
    const hostArn = new URL(page.url()).searchParams.get('arn')!
    expect((await sdk.send(new GetHostCommand({ HostArn: hostArn }))).Status).toBe('PENDING')
    // The wizard points at this host's setup while it is PENDING.
    await page.goto(url('/console/connections/new'))
    expect(await page.getByRole('link', { name: 'Set up host ghes' }).getAttribute('href')).toBe(
      `/console/host?arn=${encodeURIComponent(hostArn)}#host-setup`,
    )
    await page.getByRole('link', { name: 'Set up host ghes' }).click()
    await page.waitForURL(/\/console\/host\?/)
    // The manifest flow: Junction's page posts the manifest to the server, which asks its user.
    await submit(page, 'Set up host')
    await submit(page, 'Create on GitHub')
    expect(page.url().startsWith(ghes.url)).toBe(true)
    await page.getByLabel('Username').fill(USER.login)
    await page.getByLabel('Password').fill(USER.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForLoadState()
    await submit(page, /^Create GitHub App for /)
    await screenshot(page, 'ghes-01-registered')
    expect(await page.getByRole('status').textContent()).toMatch(/The host is now AVAILABLE/)
    expect((await sdk.send(new GetHostCommand({ HostArn: hostArn }))).Status).toBe('AVAILABLE')
    // A connection on the host, from the host's page.
    await page.getByRole('link', { name: 'Back to the console' }).click()
    await page.getByRole('link', { name: 'Create a connection on this host' }).click()
    await page.waitForURL(/\/console\/connections\/new/)
    expect(await page.getByRole('radio', { name: /^GitHub Enterprise Server/ }).isChecked()).toBe(
      true,
    )
    expect(await page.getByLabel(/^Host/).inputValue()).toBe(hostArn)
    await page.getByLabel('Connection name').fill('ghes-console')
    await submit(page, 'Create and connect')
    await installOnAcme(page, ghes.url)
    await screenshot(page, 'ghes-02-available')
    expect(await page.locator('h1').textContent()).toMatch(/ghes-console\s+AVAILABLE/)
    const arn = new URL(page.url()).searchParams.get('arn')!
    const c = await status(arn)
    expect(c).toMatchObject({ ConnectionStatus: 'AVAILABLE', HostArn: hostArn })
    expect(c.ProviderType).toBe('GitHubEnterpriseServer')
  })
})
