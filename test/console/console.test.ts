/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core against a
 * Junction wired to the sandbox Bitbucket. Screenshots of every page land in
 * test-artifacts/console/ (not committed).
 */
import { CreateConnectionCommand, CreateHostCommand } from '@aws-sdk/client-codestar-connections'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchChromium,
  noHorizontalScroll,
  screenshot,
  unlabelledControls,
} from '../helpers/browser-chromium.js'
import type { Credentials } from '../helpers/client.js'
import {
  ext,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { Browser as FormBrowser } from '../helpers/browser.js'
import { policy, userWithPolicy } from '../helpers/iam.js'

const text = async (p: Page, selector: string) =>
  ((await p.locator(selector).first().textContent()) ?? '').trim()

/** Clicks a button whose form redirects (post/redirect/get) and waits for the new page. */
async function submit(p: Page, name: string | RegExp) {
  const before = p.url()
  await p.getByRole('button', { name }).click()
  await p.waitForURL((u) => u.toString() !== before)
}

/** The settings page's card of the Bitbucket application (other providers have their own). */
const bitbucketApp = (p: Page) => p.locator('.card', { has: p.locator('#clientSecret-Bitbucket') })

/** As submit, for a button inside one part of the page. */
async function submitIn(p: Page, within: ReturnType<Page['locator']>, name: string) {
  const before = p.url()
  await within.getByRole('button', { name }).click()
  await p.waitForURL((u) => u.toString() !== before)
}

async function signIn(p: Page, base: string, creds: Credentials) {
  await p.goto(`${base}/console`)
  await p.getByLabel('Access key ID').fill(creds.accessKeyId)
  await p.getByLabel('Secret access key').fill(creds.secretAccessKey)
  await p.getByRole('button', { name: 'Sign in' }).click()
  await p.waitForURL(`${base}/console`)
}

describe('web console in Chromium', () => {
  let f: ConnectFixture
  let browser: Browser
  let page: Page
  const url = (path: string) => `${f.server.url}${path}`
  beforeAll(async () => {
    f = await startConnectFixture('sqlite')
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
  })
  afterAll(async () => {
    await browser?.close()
    await stopConnectFixture(f)
  })

  it('refuses a wrong secret next to the field, then signs in to the empty state', async () => {
    await page.goto(url('/'))
    expect(page.url()).toBe(url('/console/signin?next=%2Fconsole'))
    await screenshot(page, '01-signin')
    await page.getByLabel('Access key ID').fill(f.server.credentials.accessKeyId)
    await page.getByLabel('Secret access key').fill('wrong-secret')
    await page.getByRole('button', { name: 'Sign in' }).click()
    expect(await text(page, '#signin-error')).toMatch(/not valid/)
    expect(await page.getByLabel('Secret access key').getAttribute('aria-invalid')).toBe('true')
    await signIn(page, f.server.url, f.server.credentials)
    const cookie = (await page.context().cookies()).find((c) => c.name === 'junction_console')!
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000)
    expect(await text(page, 'h2')).toBe('No connections yet')
    expect(await page.textContent('main')).toMatch(
      /A connection holds the right to reach a Git provider/,
    )
    await screenshot(page, '02-connections-empty')
  })

  it('creates a Bitbucket connection and completes the whole wizard against the sandbox', async () => {
    await page.getByRole('link', { name: 'Create a connection' }).click()
    // GitHub Enterprise Server is offered through a host; without one the wizard links to setting one up.
    expect(await page.getByLabel(/GitHub Enterprise Server/).isDisabled()).toBe(false)
    expect(await text(page, '#no-host')).toMatch(/need an AVAILABLE host: Set up host/)
    // Every provider type has an adapter: GitLab is offered, none is marked unavailable.
    expect(await page.getByLabel('GitLab', { exact: true }).isDisabled()).toBe(false)
    expect(await page.textContent('fieldset')).not.toMatch(/not available yet/)
    expect(await page.getByLabel('Bitbucket Cloud').isChecked()).toBe(true)
    // The name is validated as the API does: the error stands next to the field.
    await page.getByLabel('Connection name').fill('x'.repeat(32))
    await page.getByLabel(/Tags/).fill('team=platform\nbroken line')
    await page.getByRole('button', { name: 'Create and connect' }).click()
    expect(await text(page, '#tags-error')).toMatch(/Line 2: write tags as key=value/)
    await screenshot(page, '03-create-error')
    await page.getByLabel('Connection name').fill('wizard-one')
    await page.getByLabel(/Tags/).fill('team=platform')
    await page.getByRole('button', { name: 'Create and connect' }).click()
    // Straight into the provider's consent page.
    await page.waitForURL(new RegExp(`^${f.sb.url}/site/oauth2/authorize`))
    await screenshot(page, '04-consent')
    await page.getByLabel('Username').fill(f.world.alice.username)
    await page.getByLabel('Password').fill(f.world.alice.password)
    await page.getByRole('button', { name: 'Grant access' }).click()
    await page.waitForURL(new RegExp(`^${f.server.url}/oauth/bitbucket/callback`))
    await screenshot(page, '05-choose-installation')
    await page.getByLabel(/Install into workspace Acme Corp/).check()
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.waitForURL(/\/console\/connection\?arn=.*done=connected/)
    expect(await text(page, '.flash')).toMatch(/Connected/)
    expect(await text(page, 'h1')).toBe('wizard-one AVAILABLE')
    expect(await page.textContent('dl')).toMatch(/Owner\s*acme/)
    expect(await page.textContent('dl')).toMatch(/Installation\s*Acme Corp/)
    expect(await page.textContent('table')).toMatch(/team\s*platform/)
    await screenshot(page, '06-connection-available')
  })

  it('filters the list by provider and host, searches by name, and pages', async () => {
    const host = await f.sdk.send(
      new CreateHostCommand({
        Name: 'ghes',
        ProviderType: 'GitHubEnterpriseServer',
        ProviderEndpoint: 'https://ghes.example.com',
      }),
    )
    for (let i = 0; i < 24; i++)
      await f.sdk.send(
        new CreateConnectionCommand({
          ProviderType: 'GitHub',
          ConnectionName: `gh-${String(i).padStart(2, '0')}`,
        }),
      )
    await f.sdk.send(
      new CreateConnectionCommand({
        ProviderType: 'GitHubEnterpriseServer',
        ConnectionName: 'on-ghes',
        HostArn: host.HostArn!,
      }),
    )
    await page.goto(url('/console'))
    expect(await text(page, 'caption')).toBe('26 connections')
    expect(await page.locator('tbody tr').count()).toBe(20)
    await page.getByRole('link', { name: 'Next' }).click()
    expect(await text(page, '.pager span')).toBe('Page 2 of 2')
    expect(await page.locator('tbody tr').count()).toBe(6)
    await page.getByLabel('Provider').selectOption('Bitbucket')
    await page.getByRole('button', { name: 'Apply' }).click()
    expect(await page.locator('tbody tr').count()).toBe(1)
    expect(await text(page, 'tbody tr td')).toBe('wizard-one')
    await page.getByLabel('Provider').selectOption('')
    await page.getByLabel('Host').selectOption({ label: 'ghes' })
    await page.getByRole('button', { name: 'Apply' }).click()
    expect(await text(page, 'tbody tr td')).toBe('on-ghes')
    await page.getByLabel('Host').selectOption('')
    await page.getByLabel('Search by name').fill('GH-1')
    await page.getByRole('button', { name: 'Apply' }).click()
    expect(await page.locator('tbody tr').count()).toBe(10)
    await screenshot(page, '07-connections-filtered')
    // The ARN's copy button copies it.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
    await page
      .getByRole('button', { name: /^Copy arn:/ })
      .first()
      .click()
    expect(await page.evaluate('navigator.clipboard.readText()')).toMatch(
      /^arn:aws:codestar-connections:/,
    )
  })

  it('edits tags and deletes only after the typed confirmation', async () => {
    await page.goto(url('/console?q=wizard-one'))
    await page.getByRole('link', { name: 'wizard-one' }).click()
    await page.getByLabel('Key', { exact: true }).fill('env')
    await page.getByLabel('Value', { exact: true }).fill('prod')
    await submit(page, 'Add tag')
    expect(await text(page, '.flash')).toBe('Tag env saved.')
    expect(await page.textContent('table')).toMatch(/env\s*prod/)
    await submit(page, 'Remove tag team')
    expect(await page.textContent('table')).not.toMatch(/team/)
    await page.getByLabel('Confirmation').fill('remove')
    // With the script the button waits for the word; without it the server checks.
    expect(await page.getByRole('button', { name: 'Delete connection' }).isDisabled()).toBe(true)
    const before = page.url()
    await page.evaluate(
      "{ const b = document.querySelector('button.danger'); b.disabled = false; b.click() }",
    )
    await page.waitForURL((u) => u.toString() !== before)
    expect(await text(page, '.flash')).toMatch(/Type delete to confirm/)
    expect(await text(page, 'h1')).toMatch(/^wizard-one/)
    await page.getByLabel('Confirmation').fill('delete')
    await page.getByRole('button', { name: 'Delete connection' }).click()
    await page.waitForURL(/\/console\?m=/)
    expect(await text(page, '.flash')).toBe('Connection deleted.')
    expect(await page.textContent('main')).not.toMatch(/wizard-one/)
  })

  it('creates, updates and deletes a host; deletion is refused while a connection uses it', async () => {
    await page.goto(url('/console/hosts'))
    await page.getByRole('link', { name: 'Create host' }).click()
    await page.getByLabel('Host name').fill('gitlab-onprem')
    await page.getByLabel('Provider', { exact: true }).selectOption('GitLabSelfManaged')
    // Passes the browser's URL check, fails the API's (http or https only).
    await page.getByLabel(/Provider endpoint/).fill('ftp://gitlab.example.com')
    await page.getByRole('button', { name: 'Create host' }).click()
    expect(await page.locator('.field-error').count()).toBe(1)
    await screenshot(page, '08-host-create-error')
    await page.getByLabel(/Provider endpoint/).fill('https://gitlab.example.com')
    await page.getByRole('button', { name: 'Create host' }).click()
    await page.waitForURL(/\/console\/host\?arn=/)
    expect(await text(page, 'h1')).toBe('gitlab-onprem PENDING')
    await page.getByLabel('Provider endpoint').fill('https://gitlab2.example.com')
    await submit(page, 'Update host')
    expect(await text(page, '.flash')).toBe('Host updated.')
    expect(await page.textContent('dl')).toMatch(/gitlab2\.example\.com/)
    await screenshot(page, '09-host')
    const hostArn = new URL(page.url()).searchParams.get('arn')!
    const used = await f.sdk.send(
      new CreateConnectionCommand({
        ProviderType: 'GitLabSelfManaged',
        ConnectionName: 'on-gitlab',
        HostArn: hostArn,
      }),
    )
    await page.getByLabel('Confirmation').fill('delete')
    await submit(page, 'Delete host')
    expect(await text(page, '.flash')).toMatch(/connection|in use/i)
    const { DeleteConnectionCommand } = await import('@aws-sdk/client-codestar-connections')
    await f.sdk.send(new DeleteConnectionCommand({ ConnectionArn: used.ConnectionArn! }))
    await page.getByLabel('Confirmation').fill('delete')
    await page.getByRole('button', { name: 'Delete host' }).click()
    await page.waitForURL(/\/console\/hosts\?m=/)
    expect(await text(page, '.flash')).toBe('Host deleted.')
  })

  it('shows the provider application with its callback URL, and takes a new secret write-only', async () => {
    await page.goto(url('/console/settings'))
    const main = (await page.textContent('main'))!
    expect(main).toContain(`${f.server.url}/oauth/bitbucket/callback`)
    expect(main).toMatch(/from junction serve flags or environment/)
    expect(await page.getByLabel('OAuth consumer key').inputValue()).toBe('junction')
    expect(
      await bitbucketApp(page)
        .getByLabel(/^Secret/)
        .inputValue(),
    ).toBe('')
    expect(await page.content()).not.toContain(f.sb.consumer!.secret)
    await screenshot(page, '10-settings')
    // A wrong secret saved here replaces the flags' one: the next handshake fails at the token
    // endpoint; saving the right one (write-only) repairs it.
    await bitbucketApp(page)
      .getByLabel(/^Secret/)
      .fill('wrong-secret')
    await submitIn(page, bitbucketApp(page), 'Save')
    expect(await text(page, '.flash')).toBe('Bitbucket Cloud application saved.')
    expect(await page.textContent('main')).toMatch(/\(set here\)/)
    expect(await page.content()).not.toContain('wrong-secret')
    const arn = await newConnection(f)
    const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
    const b = new FormBrowser()
    const consent = await b.request(String(start.json['AuthorizationUrl']))
    const refused = await b.submit(consent.forms[0]!, {
      username: 'alice',
      password: 'alice-pw',
      decision: 'grant',
    })
    expect(refused.html).toMatch(/refused the credential|Client credentials/)
    await bitbucketApp(page)
      .getByLabel(/^Secret/)
      .fill(f.sb.consumer!.secret)
    await submitIn(page, bitbucketApp(page), 'Save')
    const again = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
    const b2 = new FormBrowser()
    const consent2 = await b2.request(String(again.json['AuthorizationUrl']))
    const choice = await b2.submit(consent2.forms[0]!, {
      username: 'alice',
      password: 'alice-pw',
      decision: 'grant',
    })
    expect(choice.status).toBe(200)
    // The secret is sealed in the database, never stored in clear.
    const stored = await f.server.store.providerApps.get('Bitbucket')
    expect(stored?.secretCiphertext).toMatch(/^v1\./)
    expect(stored?.secretCiphertext).not.toContain(f.sb.consumer!.secret)
  })

  it('shows a limited IAM user the explained denial', async () => {
    const creds = await userWithPolicy(
      f.iam,
      'console-reader',
      policy({
        Effect: 'Allow',
        Action: ['codestar-connections:List*', 'codestar-connections:Get*'],
        Resource: '*',
      }),
    )
    const p = await (await browser.newContext()).newPage()
    await signIn(p, f.server.url, creds)
    expect(await p.locator('tbody tr').count()).toBeGreaterThan(0)
    await p.getByRole('link', { name: 'Create connection' }).click()
    await p.getByLabel('Connection name').fill('not-allowed')
    await p.getByRole('button', { name: 'Create and connect' }).click()
    const flash = await text(p, '.flash')
    expect(flash).toMatch(/not authorized to perform: codestar-connections:CreateConnection/)
    expect(flash).toMatch(/no identity-based policy allows/)
    await screenshot(p, '11-denied')
    await p.goto(`${f.server.url}/console/settings`)
    await bitbucketApp(p)
      .getByLabel(/^Secret/)
      .fill('not-mine')
    await bitbucketApp(p).getByRole('button', { name: 'Save' }).click()
    expect(await p.textContent('main')).toMatch(
      /only the account root \(the operator\) manages them/,
    )
    await p.context().close()
  })

  it('refuses a state-changing request without the CSRF token, and changes nothing', async () => {
    await page.goto(url('/console/connections/new'))
    const status = await page.evaluate(async () => {
      const r = await fetch('/console/connections/new', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'provider=Bitbucket&name=csrf-attempt&csrf=forged',
      })
      return r.status
    })
    expect(status).toBe(403)
    await page.goto(url('/console?q=csrf-attempt'))
    expect(await page.textContent('main')).toMatch(/No connection matches/)
  })

  it('fits 390 px and 1280 px without sideways scrolling, with labelled controls and visible focus', async () => {
    await f.sdk.send(
      new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'narrow-one' }),
    )
    const p = await (await browser.newContext({ viewport: { width: 390, height: 800 } })).newPage()
    await signIn(p, f.server.url, f.server.credentials)
    for (const path of [
      '/console',
      '/console/connections/new',
      '/console/hosts',
      '/console/hosts/new',
      '/console/settings',
    ]) {
      await p.goto(url(path))
      expect(await noHorizontalScroll(p), `${path} at 390 px`).toBe(true)
      expect(await unlabelledControls(p), path).toEqual([])
      await page.goto(url(path))
      expect(await noHorizontalScroll(page), `${path} at 1280 px`).toBe(true)
    }
    await p.goto(url('/console?q=narrow-one'))
    await p.getByRole('link', { name: 'narrow-one' }).click()
    await p.waitForURL(/\/console\/connection\?arn=/)
    expect(await noHorizontalScroll(p)).toBe(true)
    await screenshot(p, '12-connection-390px')
    // Keyboard: Tab reaches the first control and it shows a focus outline.
    await p.goto(url('/console'))
    await p.keyboard.press('Tab')
    const outline = (await p.evaluate(
      '({ tag: document.activeElement.tagName, style: getComputedStyle(document.activeElement).outlineStyle })',
    )) as { tag: string; style: string }
    expect(outline.tag).toBe('A')
    expect(outline.style).not.toBe('none')
    await p.context().close()
  })

  it('signs out, and the old cookie put back into the browser is refused', async () => {
    await page.goto(url('/console'))
    const old = (await page.context().cookies()).find((c) => c.name === 'junction_console')!
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/\/console\/signin/)
    expect(await text(page, '.flash')).toBe('Signed out.')
    await page.goto(url('/console/settings'))
    expect(page.url()).toMatch(/\/console\/signin\?next=%2Fconsole%2Fsettings/)
    // Someone who copied the cookie before the sign-out replays it: the session ended on the server.
    await page.context().addCookies([old])
    await page.goto(url('/console/settings'))
    expect(page.url()).toMatch(/\/console\/signin\?next=%2Fconsole%2Fsettings/)
  })
})

describe('console sessions expire', () => {
  it('sends an expired session back to sign-in and refuses its forms (a 3-second session)', async () => {
    const f = await startConnectFixture('sqlite', { 'console-session-ttl': '3' })
    const browser = await launchChromium()
    try {
      const page = await browser.newPage()
      await signIn(page, f.server.url, f.server.credentials)
      // The cookie's expiry is at least the server's (the browser counts Max-Age from receipt).
      const cookie = (await page.context().cookies()).find((c) => c.name === 'junction_console')!
      await page.goto(`${f.server.url}/console/connections/new`)
      // Still signed in here (the form is shown); then the 3-second session runs out.
      expect(page.url()).toBe(`${f.server.url}/console/connections/new`)
      await new Promise((r) => setTimeout(r, Math.max(0, cookie.expires * 1000 + 500 - Date.now())))
      await page.getByLabel('Connection name').fill('too-late')
      await page.getByRole('button', { name: 'Create and connect' }).click()
      expect(await text(page, 'h1')).toBe('Your session has expired')
      await page.goto(`${f.server.url}/console`)
      expect(page.url()).toMatch(/\/console\/signin/)
      const list = await f.server.store.connections.list('000000000000', {}, 0, 10)
      expect(list).toEqual([])
    } finally {
      await browser.close()
      await stopConnectFixture(f)
    }
  })
})
