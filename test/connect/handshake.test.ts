/**
 * The browser handshake end to end against the sandbox Bitbucket: an HTTP client follows the
 * redirects and submits the real consent and choice forms; the connection turns AVAILABLE.
 */
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { UpdateAccessKeyCommand } from '@aws-sdk/client-iam'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Browser } from '../helpers/browser.js'
import {
  completeWithToken,
  ext,
  handshakeToChoice,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import { expectAwsError } from '../helpers/api.js'

for (const engine of testEngines()) {
  describe(`browser handshake [${engine}]`, () => {
    let f: ConnectFixture
    beforeAll(async () => {
      f = await startConnectFixture(engine)
    })
    afterAll(() => stopConnectFixture(f))

    const status = async (arn: string) =>
      (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!

    it('takes a PENDING connection to AVAILABLE: consent, choose the workspace, Connect', async () => {
      const arn = await newConnection(f, 'via-browser')
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice)
      expect(choice.url).toMatch(new RegExp(`^${f.server.url}/oauth/bitbucket/callback\\?`))
      expect(choice.status).toBe(200)
      expect(choice.html).toContain('Connect <code>via-browser</code>')
      const form = choice.forms[0]!
      // alice administers acme and rival; nothing is installed yet.
      expect(form.options.get('choice')).toEqual(['target:acme', 'target:rival'])
      const jar = [...(b.cookies.get(new URL(f.server.url).host) ?? new Map<string, string>())]
      const bound = jar.filter(([k]) => /^junction_handshake_[A-Za-z0-9_-]{24}$/.test(k))
      expect(bound).toHaveLength(1)
      expect(bound[0]![1]).toMatch(/^[A-Za-z0-9_-]{32}$/)
      const done = await b.submit(form, { choice: 'target:acme' })
      expect(done.status).toBe(200)
      expect(done.html).toContain('is <strong>AVAILABLE</strong>')
      const c = await status(arn)
      expect(c.ConnectionStatus).toBe('AVAILABLE')
      // The owning account, as AWS answers it; the workspace is in DescribeConnection (below).
      expect(c.OwnerAccountId).toBe('000000000000')
      const d = await ext(f, 'DescribeConnection', { ConnectionArn: arn })
      expect(d.json['Installation']).toMatchObject({
        Workspace: 'acme',
        WorkspaceName: 'Acme Corp',
        Status: 'AVAILABLE',
        CredentialType: 'OAuth',
      })
      // The connection works: a branch head through it.
      const head = await ext(f, 'GetBranch', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
        BranchName: 'main',
      })
      expect(head.json['CommitId']).toBe(f.world.commits.second)
    })

    it('offers the existing installation to the next connection, which shares it', async () => {
      const first = (await ext(f, 'ListInstallations', {})).json['Installations'] as {
        InstallationId: string
        Workspace: string
      }[]
      const acme = first.find((i) => i.Workspace === 'acme')!
      const arn = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice)
      const options = choice.forms[0]!.options.get('choice')!
      expect(options).toEqual([
        `installation:${acme.InstallationId}`,
        'target:acme',
        'target:rival',
      ])
      expect(choice.html).toContain('Use the existing installation for <strong>Acme Corp</strong>')
      await b.submit(choice.forms[0]!, { choice: `installation:${acme.InstallationId}` })
      expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
      const after = (await ext(f, 'ListInstallations', {})).json['Installations'] as unknown[]
      expect(after).toHaveLength(first.length)
    })

    it('refuses a replayed callback: the state is single-use', async () => {
      const arn = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice)
      const again = await new Browser().request(choice.url)
      expect(again.status).toBe(400)
      expect(again.html).toMatch(/already used or has expired/)
      // The original browser can still finish.
      await b.submit(choice.forms[0]!, { choice: 'target:acme' })
      expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
      // …but only once.
      const twice = await b.submit(choice.forms[0]!, { choice: 'target:acme' })
      expect(twice.status).toBe(403)
    })

    it('refuses a tampered or foreign state', async () => {
      const arn = await newConnection(f)
      const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
      // The start link sends the browser on to the provider's consent with the signed state.
      const begin = await fetch(String(start.json['AuthorizationUrl']), { redirect: 'manual' })
      expect(begin.status).toBe(302)
      const state = new URL(begin.headers.get('location')!).searchParams.get('state')!
      const [payload, mac] = state.split('.')
      const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as {
        v: { c: string }
      }
      // Another connection's ARN (the last character changed, whatever it was).
      forged.v.c = arn.replace(/.$/, arn.endsWith('0') ? '1' : '0')
      const tampered = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`
      for (const s of [tampered, 'garbage', `${payload}.AAAA`]) {
        const page = await new Browser().request(
          `${f.server.url}/oauth/bitbucket/callback?code=x&state=${encodeURIComponent(s)}`,
        )
        expect(page.status).toBe(400)
        expect(page.html).toMatch(/not valid or has expired/)
      }
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
    })

    it('refuses the choice form from another browser, and without the CSRF token', async () => {
      const arn = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice)
      const form = choice.forms[0]!
      const stranger = await new Browser().submit(form, { choice: 'target:acme' })
      expect(stranger.status).toBe(403)
      expect(stranger.html).toMatch(/CSRF check failed/)
      const noCsrf = await b.submit(form, { choice: 'target:acme', csrf: '' })
      expect(noCsrf.status).toBe(403)
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
      const ok = await b.submit(form, { choice: 'target:acme' })
      expect(ok.status).toBe(200)
    })

    it('lets a member reuse an installation but not install into a workspace they do not administer', async () => {
      const arn = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.bob)
      const options = choice.forms[0]!.options.get('choice')!
      expect(options.every((o) => o.startsWith('installation:'))).toBe(true)
      const forged = await b.submit(choice.forms[0]!, { choice: 'target:acme' })
      expect(forged.status).toBe(400)
      expect(forged.html).toMatch(/needs its administrator/)
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
    })

    it('shows the provider refusal when the user cancels, and a wrong password keeps the consent page', async () => {
      const arn = await newConnection(f)
      const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
      const b = new Browser()
      const consent = await b.request(String(start.json['AuthorizationUrl']))
      const wrong = await b.submit(consent.forms[0]!, {
        username: 'alice',
        password: 'nope',
        decision: 'grant',
      })
      expect(wrong.status).toBe(401)
      expect(wrong.html).toContain('Incorrect username or password')
      const cancelled = await b.submit(consent.forms[0]!, { decision: 'deny' })
      expect(cancelled.status).toBe(400)
      expect(cancelled.html).toMatch(/denied access/)
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
    })

    it('refuses to start for an AVAILABLE or unknown connection, or one whose provider has no application', async () => {
      const arn = await newConnection(f)
      expect((await completeWithToken(f, arn)).status).toBe(200)
      expectAwsError(
        await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn }),
        'InvalidInputException',
        400,
        /already AVAILABLE/,
      )
      expectAwsError(
        await ext(f, 'StartOAuthHandshake', {
          ConnectionArn: arn.replace(/[0-9a-f]{12}$/, '000000000000'),
        }),
        'ResourceNotFoundException',
      )
      const gh = await f.raw.call({
        service: 'codestar-connections',
        operation: 'CreateConnection',
        body: { ProviderType: 'GitLab', ConnectionName: 'gl-one' },
      })
      // Every provider type has an adapter now; this server has no GitLab OAuth application.
      const refused = await ext(f, 'StartOAuthHandshake', {
        ConnectionArn: String(gh.json['ConnectionArn']),
      })
      expectAwsError(refused, 'InvalidInputException', 400)
      expect(String(refused.json['message'] ?? refused.json['Message'])).toMatch(/GitLab/)
      expectAwsError(
        await ext(f, 'StartOAuthHandshake', {}),
        'ValidationException',
        400,
        /ConnectionArn/,
      )
      expectAwsError(await ext(f, 'NoSuchOperation', {}), 'UnknownOperationException')
    })

    it('authorizes each step as the caller who started it', async () => {
      const arn = await newConnection(f)
      const denied = await userWithPolicy(
        f.iam,
        `hs-none-${engine}`,
        policy({ Effect: 'Allow', Action: 'codestar-connections:GetConnection', Resource: '*' }),
      )
      const r = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn }, denied)
      expectAwsError(r, 'AccessDeniedException', 400, /StartOAuthHandshake/)
      // Allowed to start and list, but UpdateConnectionInstallation only for another installation.
      const limited = await userWithPolicy(
        f.iam,
        `hs-limited-${engine}`,
        policy(
          {
            Effect: 'Allow',
            Action: [
              'codestar-connections:StartOAuthHandshake',
              'codestar-connections:ListInstallationTargets',
            ],
            Resource: '*',
          },
          {
            Effect: 'Allow',
            Action: 'codestar-connections:UpdateConnectionInstallation',
            Resource: '*',
            Condition: {
              StringEquals: { 'codestar-connections:InstallationId': 'some-other-installation' },
            },
          },
        ),
      )
      await new Promise((res) => setTimeout(res, 1100))
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice, limited)
      const refused = await b.submit(choice.forms[0]!, { choice: 'target:rival' })
      expect(refused.status).toBe(400)
      expect(refused.html).toMatch(/UpdateConnectionInstallation/)
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
    })

    it('sends a hostile next of the install form back to /console, never a 5xx', async () => {
      for (const next of [
        '/console/\r\nSet-Cookie: junction_console=evil',
        '//evil.example/console',
        'https://evil.example/console',
      ]) {
        const arn = await newConnection(f)
        const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice)
        const done = await b.submit(choice.forms[0]!, {
          choice: choice.forms[0]!.options.get('choice')![0]!,
          next,
        })
        expect(done.status, next).toBeLessThan(500)
        expect(b.visited, next).toContain(`${f.server.url}/console?done=connected`)
        expect(b.visited.join(' ')).not.toContain('evil')
        expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
      }
    })

    it('ends a handshake whose starter key is deactivated, even once reactivated, before asking Bitbucket', async () => {
      const starter = await userWithPolicy(
        f.iam,
        `hs-starter-${engine}`,
        policy({ Effect: 'Allow', Action: 'codestar-connections:*', Resource: '*' }),
      )
      const toggle = async () => {
        for (const Status of ['Inactive', 'Active'] as const)
          await f.iam.send(
            new UpdateAccessKeyCommand({
              UserName: `hs-starter-${engine}`,
              AccessKeyId: starter.accessKeyId,
              Status,
            }),
          )
      }
      // At the choice page: the Connect after a deactivation and reactivation is refused.
      const arn = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice, starter)
      await toggle()
      const refused = await b.submit(choice.forms[0]!, {
        choice: choice.forms[0]!.options.get('choice')![0]!,
      })
      expect(refused.status).toBeGreaterThanOrEqual(400)
      expect(refused.status).toBeLessThan(500)
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
      // Before the consent comes back: the callback asks Bitbucket nothing.
      const second = await newConnection(f)
      const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: second }, starter)
      const browser = new Browser()
      const consent = await browser.request(String(start.json['AuthorizationUrl']))
      await toggle()
      const exchanges = f.sb.state.stats.tokenGrants.authorization_code
      const back = await browser.submit(consent.forms[0]!, {
        username: f.world.alice.username,
        password: f.world.alice.password,
        decision: 'grant',
      })
      expect(back.status).toBeGreaterThanOrEqual(400)
      expect(back.status).toBeLessThan(500)
      expect(f.sb.state.stats.tokenGrants.authorization_code).toBe(exchanges)
      expect((await status(second)).ConnectionStatus).toBe('PENDING')
    })
  })
}
