/**
 * GitLab connections through the browser handshake, driven by an HTTP client against the sandbox
 * GitLab (gitlab.com mode): CreateConnection → StartOAuthHandshake's link → Junction's begin →
 * the sandbox's consent page (authorize URL with a PKCE S256 challenge) → Junction's callback →
 * the choice of namespace (only those where the user is at least Maintainer) → AVAILABLE with the
 * owner recorded; the connection lists only that namespace's projects (subgroups included), their
 * branches, and hands out `oauth2:<token>` clone credentials that `git clone` works with.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  cloneWith,
  glExt,
  glHandshakeToChoice,
  newGlConnection,
  repoNames,
  startGlConnect,
  stopGlConnect,
  type GlConnectFixture,
} from '../helpers/gitlab-connect.js'

const alice = { username: 'alice', password: 'alice-password' }
const bob = { username: 'bob', password: 'bob-password' }

for (const engine of testEngines()) {
  describe(`GitLab browser handshake [${engine}]`, () => {
    let f: GlConnectFixture
    let dir: string
    beforeAll(async () => {
      f = await startGlConnect(engine)
      dir = mkdtempSync(join(tmpdir(), 'gl-hs-'))
      // A group where alice is only a Developer: never offered to her.
      await f.gl.admin('groups', { path: 'partners', name: 'Partners' })
      await f.gl.admin('members', { group: 'partners', username: 'alice', accessLevel: 30 }, 'PUT')
      await f.gl.admin('projects', { namespace: 'partners', path: 'shared', files: { a: 'a\n' } })
    }, 60_000)
    afterAll(async () => {
      await stopGlConnect(f)
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const status = async (arn: string) =>
      (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!

    it('consent with PKCE S256, a choice of Maintainer namespaces, AVAILABLE with the owner', async () => {
      const arn = await newGlConnection(f, { name: 'gl-browser' })
      const { choice, b, consentUrl } = await glHandshakeToChoice(f, arn, alice)
      // The consent page was reached through the authorize URL with an S256 challenge.
      const authorize = b.visited
        .map((u) => new URL(u))
        .find((u) => u.pathname === '/oauth/authorize')!
      expect(authorize.origin).toBe(f.gl.url)
      expect(authorize.searchParams.get('client_id')).toBe(f.app.clientId)
      expect(authorize.searchParams.get('redirect_uri')).toBe(
        `${f.server.url}/oauth/gitlab/callback`,
      )
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
      expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(consentUrl.origin).toBe(f.gl.url)
      expect(choice.url).toMatch(new RegExp(`^${f.server.url}/oauth/gitlab/callback\\?`))
      expect(choice.status, choice.html).toBe(200)
      const form = choice.forms[0]!
      const offered = form.options.get('choice')!
      // alice: Owner of acme (so of acme/platform and acme/platform/tools) and her own namespace;
      // Developer of partners: not offered.
      expect(offered).toEqual(
        expect.arrayContaining(['target:acme', 'target:acme/platform', 'target:alice']),
      )
      expect(offered).not.toContain('target:partners')
      const done = await b.submit(form, { choice: 'target:acme/platform' })
      expect(done.status, done.html).toBe(200)
      expect(done.html).toContain('is <strong>AVAILABLE</strong>')
      const c = await status(arn)
      expect(c).toMatchObject({ ConnectionStatus: 'AVAILABLE', ProviderType: 'GitLab' })
      expect(c.OwnerAccountId).toBe('000000000000')
      const d = await glExt(f, 'DescribeConnection', { ConnectionArn: arn })
      expect(d.json['Installation']).toMatchObject({
        Workspace: 'acme/platform',
        Status: 'AVAILABLE',
        CredentialType: 'OAuth',
      })

      // Only acme/platform's projects, its subgroup's included; not acme/website, partners or alice's.
      expect(repoNames(await glExt(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
        'acme/platform/api',
        'acme/platform/tools/cli',
      ])
      const branches = await glExt(f, 'ListBranches', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/platform/api',
      })
      expect(branches.status, branches.text).toBe(200)
      expect(
        (branches.json['Branches'] as { BranchName: string }[]).map((x) => x.BranchName).sort(),
      ).toEqual(['feature/login', 'main', 'release/1.0'])
      const outside = await glExt(f, 'GetBranch', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/website',
        BranchName: 'main',
      })
      expect(outside.status).toBeGreaterThanOrEqual(400)
      expect(outside.status).toBeLessThan(500)

      // Clone credentials: oauth2:<token>, and git clones with them.
      const cred = await glExt(f, 'GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/platform/api',
      })
      expect(cred.json).toMatchObject({
        CloneUrl: `${f.gl.url}/acme/platform/api.git`,
        Username: 'oauth2',
      })
      expect(await cloneWith(cred, join(dir, 'api'))).toBe(f.gl.world.commits.second)
      const nested = await glExt(f, 'GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/platform/tools/cli',
      })
      await cloneWith(nested, join(dir, 'cli'))
    })

    it('offers bob (Developer of acme/platform) no group, only his own namespace', async () => {
      const arn = await newGlConnection(f)
      const { choice } = await glHandshakeToChoice(f, arn, bob)
      expect(choice.status, choice.html).toBe(200)
      const offered = choice.forms[0]?.options.get('choice') ?? []
      expect(offered).toEqual(['target:bob'])
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
    })
  })
}
