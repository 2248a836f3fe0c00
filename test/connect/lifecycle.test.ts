/**
 * The credential lifecycle: refreshed before expiry, one refresh at a time per installation even
 * under concurrent use, a revoked credential moving its connections to ERROR with a reason, and
 * back to AVAILABLE when it works again (automatic retry, or re-authorization).
 */
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAwsError } from '../helpers/api.js'
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

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

for (const engine of testEngines()) {
  describe(`credential lifecycle [${engine}]`, () => {
    let f: ConnectFixture
    let oauthArn: string
    let sharedArn: string
    beforeAll(async () => {
      f = await startConnectFixture(engine, { 'credential-recheck-interval': '1' })
      oauthArn = await newConnection(f, 'oauth-one')
      const { browser: choice, b } = await handshakeToChoice(f, oauthArn, f.world.alice)
      await b.submit(choice.forms[0]!, { choice: 'target:acme' })
      // A second connection on the same installation.
      sharedArn = await newConnection(f, 'oauth-two')
      const inst = (await ext(f, 'ListInstallations', {})).json['Installations'] as {
        InstallationId: string
      }[]
      const r = await ext(f, 'UpdateConnectionInstallation', {
        ConnectionArn: sharedArn,
        InstallationId: inst[0]!.InstallationId,
      })
      expect(r.status, r.text).toBe(200)
    })
    afterAll(() => stopConnectFixture(f))

    const statusOf = async (arn: string) =>
      (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!
        .ConnectionStatus
    const stats = () => f.sb.admin<{ tokenGrants: { refresh_token: number } }>('stats')
    const head = (arn: string) =>
      ext(f, 'GetBranch', { ConnectionArn: arn, FullRepositoryId: 'acme/app', BranchName: 'main' })

    /** Makes alice's current access tokens stop working at the provider (as on expiry). */
    const expireAtProvider = () => {
      for (const t of Object.values(f.sb.state.data.tokens))
        if (t.kind === 'access' && t.username === 'alice') t.expiresAt = Date.now() - 1
    }

    it('refreshes once when the provider refuses a token, however many requests hit it at once', async () => {
      const before = (await stats()).tokenGrants.refresh_token
      expireAtProvider()
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => head(i % 2 ? oauthArn : sharedArn)),
      )
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200))
      expect((await stats()).tokenGrants.refresh_token - before).toBe(1)
      // The refreshed token is stored: the next requests use it without refreshing.
      await head(oauthArn)
      expect((await stats()).tokenGrants.refresh_token - before).toBe(1)
    })

    it('refreshes before expiry, while the old token still works', async () => {
      // Tokens issued from now live 200 s: inside Junction's 5-minute refresh margin.
      await f.sb.admin('settings', { accessTokenLifetimeSeconds: 200 }, 'PUT')
      expireAtProvider()
      await head(oauthArn)
      const installation = (await ext(f, 'ListInstallations', {})).json['Installations'] as {
        Workspace: string
        CredentialExpiresAt: number
      }[]
      const acme = installation.find((i) => i.Workspace === 'acme')!
      expect(acme.CredentialExpiresAt).toBeLessThan(Date.now() / 1000 + 300)
      await f.sb.admin('settings', { accessTokenLifetimeSeconds: 7200 }, 'PUT')
      const before = (await stats()).tokenGrants.refresh_token
      const live = Object.entries(f.sb.state.data.tokens).filter(
        ([, t]) => t.kind === 'access' && t.username === 'alice' && t.expiresAt! > Date.now(),
      )
      expect(live.length).toBeGreaterThan(0)
      // The stored token still works at the provider, but expires within the margin: refreshed first.
      expect((await head(oauthArn)).status).toBe(200)
      expect((await stats()).tokenGrants.refresh_token - before).toBe(1)
      expect((await head(sharedArn)).status).toBe(200)
      expect((await stats()).tokenGrants.refresh_token - before).toBe(1)
      const after = (await ext(f, 'ListInstallations', {})).json['Installations'] as {
        Workspace: string
        CredentialExpiresAt: number
      }[]
      expect(after.find((i) => i.Workspace === 'acme')!.CredentialExpiresAt).toBeGreaterThan(
        Date.now() / 1000 + 3600,
      )
    })

    it('moves every connection of a revoked installation to ERROR with the reason, and back when it works again', async () => {
      await f.sb.admin('users/alice/revoke-grants', {})
      expireAtProvider()
      const r = await head(oauthArn)
      expectAwsError(r, 'ResourceUnavailableException', 400, /refused the credential/)
      expect(await statusOf(oauthArn)).toBe('ERROR')
      expect(await statusOf(sharedArn)).toBe('ERROR')
      const d = await ext(f, 'DescribeConnection', { ConnectionArn: sharedArn })
      expect(String(d.json['StatusReason'])).toMatch(
        /stopped working: .*Re-authorize the connection/,
      )
      expect(d.text).not.toMatch(/refresh_token=|Bearer/)
      const use = await head(sharedArn)
      expectAwsError(
        use,
        'ResourceUnavailableException',
        400,
        /is in ERROR: The Bitbucket credential/,
      )
      // The grant comes back (the user re-enabled the consumer): the retry loop heals both.
      await f.sb.admin('users/alice/restore-grants', {})
      await until('AVAILABLE again', async () =>
        (await statusOf(oauthArn)) === 'AVAILABLE' ? true : undefined,
      )
      expect(await statusOf(sharedArn)).toBe('AVAILABLE')
      expect((await head(sharedArn)).status).toBe(200)
      const healed = await ext(f, 'DescribeConnection', { ConnectionArn: sharedArn })
      expect(healed.json['StatusReason']).toBeUndefined()
    })

    it('re-authorizes a connection in ERROR through the handshake', async () => {
      await f.sb.admin('users/alice/revoke-grants', {})
      expireAtProvider()
      await head(oauthArn)
      expect(await statusOf(oauthArn)).toBe('ERROR')
      const { browser: choice, b } = await handshakeToChoice(f, oauthArn, f.world.alice)
      expect(choice.html).toMatch(/Re-install into workspace <strong>Acme Corp<\/strong>/)
      const done = await b.submit(choice.forms[0]!, { choice: 'target:acme' })
      expect(done.status).toBe(200)
      // The fresh credential heals the installation, so its other connection too.
      expect(await statusOf(oauthArn)).toBe('AVAILABLE')
      expect(await statusOf(sharedArn)).toBe('AVAILABLE')
    })

    it('moves a workspace-token connection to ERROR when the token is revoked, and back when restored', async () => {
      const arn = await newConnection(f, 'token-one')
      const { token } = await f.sb.admin<{ token: string }>('access-tokens', { workspace: 'rival' })
      expect((await completeWithToken(f, arn, token, 'rival')).status).toBe(200)
      const list = () => ext(f, 'ListRepositories', { ConnectionArn: arn })
      expect((await list()).status).toBe(200)
      await f.sb.admin('tokens/revoke', { token })
      expectAwsError(await list(), 'ResourceUnavailableException')
      expect(await statusOf(arn)).toBe('ERROR')
      await f.sb.admin('tokens/restore', { token })
      await until('AVAILABLE again', async () =>
        (await statusOf(arn)) === 'AVAILABLE' ? true : undefined,
      )
      expect((await list()).status).toBe(200)
    })

    it('rides out provider 5xx and 429 answers with retries, without touching the connection', async () => {
      await f.sb.admin('failures', { count: 2, status: 503 })
      expect((await head(oauthArn)).status).toBe(200)
      await f.sb.admin('failures', { count: 1, status: 429, retryAfter: 0 })
      expect((await head(oauthArn)).status).toBe(200)
      // A provider that keeps failing is reported as unavailable, not as a Junction 5xx.
      await f.sb.admin('failures', { count: 10, status: 502 })
      const r = await head(oauthArn)
      expectAwsError(r, 'ResourceUnavailableException', 400, /try again later/)
      await f.sb.admin('failures', { count: 0, status: 503 })
      expect(await statusOf(oauthArn)).toBe('AVAILABLE')
    })
  })
}
