/**
 * A handshake belongs to the browser of the principal who started it (issue 11, item 10): the
 * link StartOAuthHandshake returns binds the first browser that opens it, and the provider's
 * redirect back is honoured only there. These tests perform the attack: someone else opens the
 * victim's links (the start link, or the provider consent page it led to) and grants consent in
 * the sandbox Bitbucket as another user with a workspace of their own.
 */
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Browser, type Page } from '../helpers/browser.js'
import {
  ext,
  handshakeToChoice,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import type { Credentials } from '../helpers/client.js'

const mallory = { username: 'mallory', password: 'mallory-pw' }
const OTHER_BROWSER = /bound to the browser that first opened the link[\s\S]*Nothing was changed/

for (const engine of testEngines()) {
  describe(`a handshake is bound to its starter's browser [${engine}]`, () => {
    let f: ConnectFixture
    let starter: Credentials
    beforeAll(async () => {
      f = await startConnectFixture(engine)
      // The attacker's own Bitbucket account and workspace.
      await f.sb.admin('users', mallory)
      await f.sb.admin('workspaces', { slug: 'evil', name: 'Evil Inc', admins: ['mallory'] })
      starter = await userWithPolicy(
        f.iam,
        `hs-starter-${engine}`,
        policy({ Effect: 'Allow', Action: 'codestar-connections:*', Resource: '*' }),
      )
      await new Promise((res) => setTimeout(res, 1100))
    })
    afterAll(() => stopConnectFixture(f))

    /** The workspace the connection was completed for (Junction's DescribeConnection). */
    const workspaceOf = async (arn: string) =>
      (
        (await ext(f, 'DescribeConnection', { ConnectionArn: arn })).json['Installation'] as {
          Workspace?: string
        }
      )?.Workspace
    const connection = async (arn: string) =>
      (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!
    const codeExchanges = () => f.sb.state.stats.tokenGrants.authorization_code

    /** The victim's browser opens the start link and reaches Bitbucket's consent page. */
    async function victimAtConsent(arn: string, credentials?: Credentials) {
      const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn }, credentials)
      expect(start.status, start.text).toBe(200)
      const link = String(start.json['AuthorizationUrl'])
      const victim = new Browser()
      const consent = await victim.request(link)
      expect(consent.url).toMatch(new RegExp(`^${f.sb.url}/site/oauth2/authorize\\?`))
      expect(consent.forms[0]!.options.get('decision')).toEqual(['grant', 'deny'])
      return { link, victim, consent }
    }

    const grant = (b: Browser, consent: Page, user: { username: string; password: string }) =>
      b.submit(consent.forms[0]!, { ...user, decision: 'grant' })

    it("refuses the victim's consent page opened and granted in the attacker's browser; the victim still completes", async () => {
      const arn = await newConnection(f, `victim-${engine}`)
      const { victim, consent } = await victimAtConsent(arn, starter)
      const exchanges = codeExchanges()
      // The attacker got the consent page's URL (forwarded, or from a log) and grants as mallory.
      const attacker = new Browser()
      const theirs = await attacker.request(consent.url)
      expect(theirs.status).toBe(200)
      const refused = await grant(attacker, theirs, mallory)
      expect(refused.url).toMatch(new RegExp(`^${f.server.url}/oauth/bitbucket/callback\\?`))
      expect(refused.status).toBe(400)
      expect(refused.html).toMatch(OTHER_BROWSER)
      expect(refused.forms).toHaveLength(0)
      // Nothing changed: no code exchanged, the connection still PENDING, no installation.
      expect(codeExchanges()).toBe(exchanges)
      expect((await connection(arn)).ConnectionStatus).toBe('PENDING')
      expect((await ext(f, 'ListInstallations', {})).json['Installations']).toEqual([])
      // The starter's browser finishes with its own choice.
      const choice = await grant(victim, consent, f.world.alice)
      expect(choice.status, choice.html).toBe(200)
      expect(choice.forms[0]!.options.get('choice')).toEqual(['target:acme', 'target:rival'])
      const done = await victim.submit(choice.forms[0]!, { choice: 'target:acme' })
      expect(done.html).toContain('is <strong>AVAILABLE</strong>')
      const c = await connection(arn)
      expect(c.ConnectionStatus).toBe('AVAILABLE')
      expect(await workspaceOf(arn)).toBe('acme')
    })

    it('refuses the start link opened again in another browser, even by a principal with a handshake of its own', async () => {
      const arn = await newConnection(f)
      const { link, victim, consent } = await victimAtConsent(arn, starter)
      // Another principal (root here) has a bound handshake of its own in the attacker's browser.
      const own = await newConnection(f)
      const attacker = new Browser()
      const ownStart = await ext(f, 'StartOAuthHandshake', { ConnectionArn: own })
      expect((await attacker.request(String(ownStart.json['AuthorizationUrl']))).status).toBe(200)
      const exchanges = codeExchanges()
      // The link is Junction's own start page, which sends its first browser on to Bitbucket.
      expect(link).toMatch(new RegExp(`^${f.server.url}/oauth/bitbucket/begin\\?t=`))
      const second = await attacker.request(link)
      expect(second.url).toBe(link)
      expect(second.status).toBe(400)
      expect(second.html).toMatch(OTHER_BROWSER)
      // …and the consent page the victim reached, granted as mallory: refused too.
      const theirs = await attacker.request(consent.url)
      const refused = await grant(attacker, theirs, mallory)
      expect(refused.status).toBe(400)
      expect(refused.html).toMatch(OTHER_BROWSER)
      expect(codeExchanges()).toBe(exchanges)
      expect((await connection(arn)).ConnectionStatus).toBe('PENDING')
      // The starter's browser may reopen its link (a reload) and complete.
      const again = await victim.request(link)
      expect(again.url).toMatch(new RegExp(`^${f.sb.url}/site/oauth2/authorize\\?`))
      const choice = await grant(victim, again, f.world.alice)
      const done = await victim.submit(choice.forms[0]!, {
        choice: choice.forms[0]!.options.get('choice')![0]!,
      })
      expect(done.html).toContain('is <strong>AVAILABLE</strong>')
      expect(await workspaceOf(arn)).toBe('acme')
    })

    it('refuses a state that never went through the start link (a browser with no binding)', async () => {
      const arn = await newConnection(f)
      const { victim, consent } = await victimAtConsent(arn)
      // The victim's own browser without its cookie (another profile, a private window).
      const bare = new Browser()
      const page = await bare.request(consent.url)
      const refused = await grant(bare, page, f.world.alice)
      expect(refused.status).toBe(400)
      expect(refused.html).toMatch(OTHER_BROWSER)
      expect((await connection(arn)).ConnectionStatus).toBe('PENDING')
      const choice = await grant(victim, consent, f.world.alice)
      expect(choice.status).toBe(200)
    })

    it('answers a forged, tampered or garbage start link with a 4xx page and binds nothing', async () => {
      const arn = await newConnection(f)
      const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
      const link = new URL(String(start.json['AuthorizationUrl']))
      const t = link.searchParams.get('t')!
      const [payload, mac] = t.split('.')
      const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as {
        v: { h: string }
      }
      forged.v.h = 'A'.repeat(24)
      const tampered = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`
      for (const bad of [
        tampered,
        '',
        'garbage',
        `${payload}.AAAA`,
        '%00\r\n<x>',
        'x'.repeat(9000),
      ]) {
        const b = new Browser()
        const page = await b.request(
          `${f.server.url}/oauth/bitbucket/begin?t=${encodeURIComponent(bad)}`,
        )
        expect(page.status, bad.slice(0, 40)).toBe(400)
        expect(page.html).toMatch(/not valid or has expired/)
        expect(b.cookies.get(link.host)).toBeUndefined()
      }
      // The state of the provider's consent is not a start link (another purpose), nor the reverse.
      const state = new URL(
        (await fetch(link, { redirect: 'manual' })).headers.get('location')!,
      ).searchParams.get('state')!
      const swapped = await new Browser().request(
        `${f.server.url}/oauth/bitbucket/begin?t=${encodeURIComponent(state)}`,
      )
      expect(swapped.status).toBe(400)
      const post = await fetch(link, { method: 'POST' })
      expect(post.status).toBe(405)
    })

    it('keeps two handshakes in one browser apart (one cookie each)', async () => {
      const a = await newConnection(f)
      const b = await newConnection(f)
      const browser = new Browser()
      const first = await handshakeToChoice(f, a, f.world.alice, undefined, browser)
      const second = await handshakeToChoice(f, b, f.world.alice, undefined, browser)
      const jar = [...browser.cookies.get(new URL(f.server.url).host)!.keys()]
      expect(jar.filter((k) => k.startsWith('junction_handshake_'))).toHaveLength(2)
      const pick = (p: Page) => p.forms[0]!.options.get('choice')![0]!
      for (const p of [first.browser, second.browser]) {
        const done = await browser.submit(p.forms[0]!, { choice: pick(p) })
        expect(done.html).toContain('is <strong>AVAILABLE</strong>')
      }
    })
  })

  describe(`a bound handshake still expires [${engine}]`, () => {
    let f: ConnectFixture | undefined
    afterAll(async () => {
      await stopConnectFixture(f)
      vi.useRealTimers()
    })

    it('after ten minutes neither the start link nor the consent completes', async () => {
      // The whole process's clock (server, sandbox and client alike) moves forward on demand.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
      f = await startConnectFixture(engine)
      const arn = await newConnection(f)
      const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
      const unopened = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
      const link = String(start.json['AuthorizationUrl'])
      const victim = new Browser()
      const consent = await victim.request(link)
      expect(consent.forms[0]!.options.get('decision')).toEqual(['grant', 'deny'])
      vi.setSystemTime(Date.now() + 10 * 60 * 1000 + 1000)
      const late = await victim.submit(consent.forms[0]!, { ...f.world.alice, decision: 'grant' })
      expect(late.status).toBe(400)
      expect(late.html).toMatch(/not valid or has expired|already used or has expired/)
      for (const l of [link, String(unopened.json['AuthorizationUrl'])]) {
        const page = await new Browser().request(l)
        expect(page.status).toBe(400)
        expect(page.html).toMatch(/not valid or has expired|already used or has expired/)
      }
      const c = await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))
      expect(c.Connection!.ConnectionStatus).toBe('PENDING')
    })
  })
}
