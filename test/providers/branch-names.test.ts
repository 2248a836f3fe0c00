/**
 * Branch lookups by names with slashes, dots, quotes and Unicode against the sandbox Bitbucket
 * (issue 12 item 6): the adapter asks with the documented `q=name = "…"` filter, because Bitbucket
 * Cloud answers 404 to an encoded slash in the `refs/branches/{name}` path, as the sandbox does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderNotFound } from '../../src/providers/errors.js'
import type { ProviderCredentials } from '../../src/providers/provider.js'
import {
  sandboxProvider,
  seedWorld,
  startSandbox,
  type Sandbox,
  type World,
} from '../helpers/bitbucket.js'

describe('Branch names with slashes, dots, quotes and Unicode', () => {
  let sb: Sandbox
  let world: World
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
  })
  afterAll(() => sb.stop())

  const names = ['release/1.0', 'feature/a.b/c', 'fix/ünïcødé-分支', 'odd/"quoted"']

  it('finds each by name through the filter, and the sandbox answers 404 to %2F as Bitbucket does', async () => {
    const provider = sandboxProvider(sb)
    const c: ProviderCredentials = { kind: 'access-token', accessToken: world.acmeToken }
    for (const name of names) {
      const { commit } = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
        branch: name,
        message: `on ${name}`,
        files: { 'branch.txt': name },
      })
      const b = await provider.getBranch(c, 'acme/app', name)
      expect(b).toMatchObject({ name, commit: { id: commit } })
      expect(b.commit.message.trim()).toBe(`on ${name}`)
    }
    // A prefix of a name is not that branch.
    await expect(provider.getBranch(c, 'acme/app', 'release')).rejects.toBeInstanceOf(
      ProviderNotFound,
    )
    const headers = { authorization: `Bearer ${world.acmeToken}` }
    const base = `${sb.apiUrl}/repositories/acme/app/refs/branches`
    const encoded = await fetch(`${base}/release%2F1.0`, { headers })
    expect(encoded.status).toBe(404)
    await encoded.body?.cancel()
    const plain = await fetch(`${base}/release/1.0`, { headers })
    expect(plain.status).toBe(200)
    expect(((await plain.json()) as { name: string }).name).toBe('release/1.0')
  })
})
