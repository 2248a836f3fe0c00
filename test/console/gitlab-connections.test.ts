/**
 * GitLab and GitLab self-managed connections from the console, in headless Chromium, against the
 * sandbox GitLab (gitlab.com mode) and a second one in self-managed mode: the settings page stores
 * the GitLab OAuth application (Junction started without one); the wizard offers GitLab, and
 * GitLab self-managed through a host; a GitLab connection is completed through the sandbox's
 * consent page and Junction's choice of namespace; a GitLabSelfManaged host is created and set up
 * on its page with an administrator's token (a non-administrator's token shows GitLab's refusal),
 * and a connection on it completes through the server's own consent page.
 */
import type { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections'
import {
  GetConnectionCommand,
  GetHostCommand,
  ListConnectionsCommand,
} from '@aws-sdk/client-codestar-connections'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { launchChromium, screenshot } from '../helpers/browser-chromium.js'
import { startGlConnect, stopGlConnect, type GlConnectFixture } from '../helpers/gitlab-connect.js'
import { startGlSandbox, type GlSandbox } from '../helpers/gitlab-sandbox.js'

vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 })

/** Clicks a submit button and waits until the browser has left the page. */
async function submit(p: Page, name: string | RegExp) {
  const before = p.url()
  await p.getByRole('button', { name }).click()
  await p.waitForURL((u) => u.toString() !== before)
}

/** On a sandbox GitLab's consent page: signs alice in and authorizes; Junction's choice next. */
async function consentAsAlice(p: Page, sandboxUrl: string) {
  expect(p.url().startsWith(sandboxUrl), (await p.locator('body').textContent()) ?? '').toBe(true)
  await p.getByLabel('Username').fill('alice')
  await p.getByLabel('Password').fill('alice-password')
  await submit(p, /^(Authorize|Allow|Grant)/i)
}

describe('GitLab connections in the console (Chromium)', () => {
  let f: GlConnectFixture
  let sm: GlSandbox
  let browser: Browser
  let page: Page
  let sdk: CodeStarConnectionsClient
  let hostArn: string
  const url = (path: string) => `${f.server.url}${path}`

  beforeAll(async () => {
    // No GitLab application by flags: the console's settings page stores it.
    f = await startGlConnect('sqlite', { withApp: false })
    sm = await startGlSandbox({ selfManaged: true })
    sdk = f.sdk
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
    await page.goto(url('/console'))
    await page.getByLabel('Access key ID').fill(f.server.credentials.accessKeyId)
    await page.getByLabel('Secret access key').fill(f.server.credentials.secretAccessKey)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(url('/console'))
  })
  afterAll(async () => {
    await browser?.close()
    await stopGlConnect(f)
    await sm?.stop()
  })

  const arnOf = async (name: string) =>
    (await sdk.send(new ListConnectionsCommand({}))).Connections!.find(
      (c) => c.ConnectionName === name,
    )!.ConnectionArn!
  const status = async (arn: string) =>
    (await sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!

  it('stores the GitLab OAuth application on the settings page', async () => {
    await page.goto(url('/console/settings'))
    await page.locator('#clientId-GitLab').fill(f.app.clientId)
    await page.locator('#clientSecret-GitLab').fill(f.app.secret)
    await page
      .locator('form', { has: page.locator('#clientId-GitLab') })
      .getByRole('button')
      .click()
    await page.waitForLoadState()
    expect(await page.locator('body').textContent()).toMatch(/GitLab application saved/)
    // The secret is write-only: never shown back.
    expect(await page.content()).not.toContain(f.app.secret)
  })

  it('the wizard offers GitLab, and GitLab self-managed through a host', async () => {
    await page.goto(url('/console/connections/new'))
    expect(await page.getByRole('radio', { name: 'GitLab', exact: true }).isEnabled()).toBe(true)
    const sm = page.getByRole('radio', { name: /^GitLab self-managed/i })
    expect(await sm.isEnabled()).toBe(true)
    expect(await page.locator('body').textContent()).toMatch(
      /GitLab self-managed connections need an AVAILABLE host/i,
    )
  })

  it('creates a GitLab connection: consent on the sandbox, choose acme/platform, AVAILABLE', async () => {
    await page.goto(url('/console/connections/new'))
    await page.getByRole('radio', { name: 'GitLab', exact: true }).check()
    await page.getByLabel('Connection name').fill('gl-console')
    await submit(page, 'Create and connect')
    await consentAsAlice(page, f.gl.url)
    await screenshot(page, 'gitlab-01-choice')
    // Junction's choice: namespaces where alice is at least Maintainer.
    await page
      .getByRole('radio', { name: /acme\/platform$|Platform/ })
      .first()
      .check()
    await submit(page, /Connect/)
    await screenshot(page, 'gitlab-02-available')
    expect(await page.locator('body').textContent()).toMatch(/AVAILABLE/)
    const c = await status(await arnOf('gl-console'))
    expect(c).toMatchObject({ ConnectionStatus: 'AVAILABLE', ProviderType: 'GitLab' })
  })

  it('creates a GitLabSelfManaged host and sets it up with a token on its page', async () => {
    await page.goto(url('/console/hosts/new'))
    await page.getByLabel('Host name').fill('gitlab-sm')
    await page.getByLabel('Provider', { exact: true }).selectOption('GitLabSelfManaged')
    await page.getByLabel(/Provider endpoint/).fill(sm.url)
    await submit(page, 'Create host')
    hostArn = new URL(page.url()).searchParams.get('arn')!
    expect((await sdk.send(new GetHostCommand({ HostArn: hostArn }))).Status).toBe('PENDING')
    // A non-administrator's token: GitLab's refusal on the page, the host still PENDING.
    await page.locator('#setup-token').fill(sm.token('alice-api'))
    await submit(page, 'Set up host')
    expect(await page.locator('body').textContent()).toMatch(/alice is not an administrator/)
    expect(await page.content()).not.toContain(sm.token('alice-api'))
    expect((await sdk.send(new GetHostCommand({ HostArn: hostArn }))).Status).toBe('PENDING')
    // Root's admin token: AVAILABLE.
    await page.locator('#setup-token').fill(sm.token('root-admin'))
    await page.locator('#setup-host').click()
    await page.waitForLoadState()
    await screenshot(page, 'gitlab-03-host-set-up')
    expect(await page.locator('body').textContent()).toMatch(/Host set up/)
    expect(await page.content()).not.toContain(sm.token('root-admin'))
    expect((await sdk.send(new GetHostCommand({ HostArn: hostArn }))).Status).toBe('AVAILABLE')
  })

  it('creates a connection on the host through the server’s consent page', async () => {
    await page.goto(url(`/console/host?arn=${encodeURIComponent(hostArn)}`))
    await page.getByRole('link', { name: 'Create a connection on this host' }).click()
    await page.waitForURL(/\/console\/connections\/new/)
    await page.getByLabel('Connection name').fill('gl-sm-console')
    await submit(page, 'Create and connect')
    await consentAsAlice(page, sm.url)
    await page
      .getByRole('radio', { name: /acme\/platform$|Platform/ })
      .first()
      .check()
    await submit(page, /Connect/)
    expect(await page.locator('body').textContent()).toMatch(/AVAILABLE/)
  })
})
