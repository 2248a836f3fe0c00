/**
 * The Bitbucket adapter against the sandbox Bitbucket: the provider contract with a workspace
 * access token and with an OAuth user credential, plus the OAuth code exchange itself.
 */
import { describe, expect, it } from 'vitest'
import { BitbucketProvider } from '../../src/providers/bitbucket/bitbucket-provider.js'
import { ProviderAuthFailed } from '../../src/providers/errors.js'
import type { ProviderCredentials } from '../../src/providers/provider.js'
import { oauthCredentials, seedWorld, startSandbox, sandboxProvider } from '../helpers/bitbucket.js'
import { runProviderContract, type ContractFixture } from './contract.js'

async function fixture(
  kind: 'access-token' | 'oauth',
): Promise<ContractFixture & { stop(): Promise<void> }> {
  const sb = await startSandbox()
  const world = await seedWorld(sb)
  // A workspace neither credential reaches (alice, the OAuth user, is not a member).
  await sb.admin('workspaces', { slug: 'stranger', name: 'Stranger Ltd', admins: ['bob'] })
  await sb.admin('repositories', {
    workspace: 'stranger',
    slug: 'hidden',
    files: { 'hidden.txt': 'hidden\n' },
  })
  const provider = sandboxProvider(sb)
  const credentials: ProviderCredentials =
    kind === 'oauth'
      ? await oauthCredentials(sb, provider, world.alice)
      : { kind: 'access-token', accessToken: world.acmeToken }
  return {
    provider,
    credentials,
    target: 'acme',
    repository: 'acme/app',
    commits: world.commits,
    changes: [
      { path: 'src/main.c', status: 'modified' },
      { path: 'src/new.c', status: 'added' },
      { path: 'docs/old.md', status: 'removed' },
    ],
    foreignRepository: 'stranger/hidden',
    push: async (branch, files) =>
      (
        await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
          branch,
          files,
          message: 'push',
        })
      ).commit,
    setPageSize: async (n) => {
      await sb.admin('settings', { maxPagelen: n }, 'PUT')
    },
    failNext: async (count, status) => {
      await sb.admin('failures', { count, status, ...(status === 429 ? { retryAfter: 0 } : {}) })
    },
    revoke: async () => {
      if (kind === 'oauth') await sb.admin('users/alice/revoke-grants', {})
      else await sb.admin('tokens/revoke', { token: world.acmeToken })
    },
    addRepository: async (name) => {
      await sb.admin('repositories', { workspace: 'acme', slug: name, files: { 'f.txt': name } })
    },
    stop: () => sb.stop(),
  }
}

runProviderContract('Bitbucket (workspace access token)', () => fixture('access-token'))
runProviderContract('Bitbucket (OAuth consumer)', () => fixture('oauth'))

describe('Bitbucket OAuth code exchange', () => {
  it('exchanges a code once, refuses it the second time, and refuses a wrong client secret', async () => {
    const sb = await startSandbox()
    try {
      const world = await seedWorld(sb)
      const provider = sandboxProvider(sb)
      const c = await oauthCredentials(sb, provider, world.bob)
      expect(c.kind).toBe('oauth')
      expect(c.refreshToken).toBeTruthy()
      const targets = await provider.listInstallationTargets(c)
      expect(targets).toEqual([
        expect.objectContaining({ slug: 'acme', name: 'Acme Corp', administrator: false }),
      ])

      const res = await fetch(`${sb.url}/site/oauth2/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: 'junction',
          response_type: 'code',
          username: 'bob',
          password: 'bob-pw',
        }),
      })
      const code = new URL(res.headers.get('location')!).searchParams.get('code')!
      const wrongSecret = new BitbucketProvider({
        endpoints: { webUrl: sb.url, apiUrl: sb.apiUrl },
        app: { clientId: 'junction', clientSecret: 'wrong', callbackUrl: 'http://x/cb' },
      })
      await expect(wrongSecret.exchangeCode(code)).rejects.toBeInstanceOf(ProviderAuthFailed)
      await provider.exchangeCode(code)
      await expect(provider.exchangeCode(code)).rejects.toThrow(/invalid or expired/)
    } finally {
      await sb.stop()
    }
  })

  it('refuses to start a handshake when no consumer is configured', () => {
    const p = new BitbucketProvider({})
    expect(() => p.authorizationUrl('s')).toThrow(/No Bitbucket OAuth consumer is configured/)
  })
})
