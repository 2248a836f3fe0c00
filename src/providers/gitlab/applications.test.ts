/**
 * Creating Junction's instance-wide OAuth application with an administrator's token, against a
 * loopback GitLab that answers as GitLab does for each kind of token.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderAuthFailed, ProviderRequestFailed } from '../errors.js'
import { createInstanceApplication } from './applications.js'

/** Token → its user, scopes, and whether the instance is in Admin Mode for it. */
const TOKENS: Record<string, { admin: boolean; scopes: string[] }> = {
  root: { admin: true, scopes: ['api', 'admin_mode'] },
  'root-no-admin-mode': { admin: true, scopes: ['api'] },
  'root-read': { admin: true, scopes: ['read_api'] },
  alice: { admin: false, scopes: ['api'] },
  'alice-admin-mode': { admin: false, scopes: ['api', 'admin_mode'] },
}

describe('createInstanceApplication', () => {
  let server: Server
  let api: string
  const created: Record<string, unknown>[] = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const json = (status: number, v: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v))
        const t = TOKENS[String(req.headers['private-token'])]
        if (!t) return json(401, { message: '401 Unauthorized' })
        if (req.url === '/api/v4/personal_access_tokens/self')
          return json(200, { scopes: t.scopes, active: true })
        if (req.url === '/api/v4/user')
          // is_admin only for a caller acting as administrator (Admin Mode on: with admin_mode).
          return json(200, {
            id: 1,
            username: t.admin ? 'root' : 'alice',
            ...(t.admin && t.scopes.includes('admin_mode') ? { is_admin: true } : {}),
          })
        if (req.url === '/api/v4/applications' && req.method === 'POST') {
          if (!t.scopes.includes('api'))
            return json(403, {
              error: 'insufficient_scope',
              error_description: 'The request requires higher privileges than provided.',
              scope: 'api',
            })
          if (!t.admin || !t.scopes.includes('admin_mode'))
            return json(403, { message: '403 Forbidden' })
          const b = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>
          created.push(b)
          return json(201, {
            id: created.length,
            application_id: `app-${created.length}`,
            application_name: b['name'],
            secret: `secret-${created.length}`,
            callback_url: b['redirect_uri'],
            confidential: b['confidential'],
          })
        }
        return json(404, { message: '404 Not Found' })
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4/`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  const create = (adminToken: string) =>
    createInstanceApplication({
      apiUrl: api,
      adminToken,
      name: 'Junction',
      redirectUri: 'https://j.example/oauth/gitlab/callback',
    })

  it('creates a confidential application asking for api, answering its client id and secret', async () => {
    expect(await create('root')).toEqual({
      applicationId: 'app-1',
      clientSecret: 'secret-1',
      id: '1',
    })
    expect(created[0]).toEqual({
      name: 'Junction',
      redirect_uri: 'https://j.example/oauth/gitlab/callback',
      scopes: 'api',
      confidential: true,
    })
  })

  it.each([
    ['root-read', ProviderRequestFailed, /lacks the api scope/],
    ['alice-admin-mode', ProviderRequestFailed, /^alice is not an administrator/],
    ['alice', ProviderRequestFailed, /alice is not an administrator.*or.*Admin Mode.*admin_mode/],
    ['root-no-admin-mode', ProviderRequestFailed, /root is not .*Admin Mode.*admin_mode scope/],
    ['nobody', ProviderAuthFailed, /refused the administrator token/],
  ])('explains a refusal for %s', async (token, type, message) => {
    const err = await create(token).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    )
    expect(err).toBeInstanceOf(type)
    expect(err.message).toMatch(message)
    expect(err.message).not.toContain(token === 'nobody' ? 'nobody' : 'secret')
  })
})
