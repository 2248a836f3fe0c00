/**
 * Property test for what this issue added: Junction's own operations, the handshake pages, the
 * archive links and the webhook ingress. Malformed input of every kind gets a 4xx (or a refusal
 * page), never a 5xx, and changes no connection.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extensionOperations } from '../../src/server/extension.js'
import { sendFrom } from '../helpers/clocked-server.js'
import {
  completeWithToken,
  ext,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'

describe('malformed input to the connect routes (property test)', () => {
  let f: ConnectFixture
  let arn: string
  let pending: string
  beforeAll(async () => {
    f = await startConnectFixture('sqlite')
    arn = await newConnection(f)
    pending = await newConnection(f)
    await completeWithToken(f, arn)
  })
  afterAll(() => stopConnectFixture(f))

  const snapshot = async () =>
    JSON.stringify(await f.server.store.connections.list('000000000000', {}, 0, 100))

  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      'arn:aws:codestar-connections:us-east-1:000000000000:connection/x',
      'acme/app',
      'rival/secret',
      'main',
      'deadbeef',
      '',
    ),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  )
  const names = [
    'ConnectionArn',
    'FullRepositoryId',
    'BranchName',
    'CommitId',
    'BaseCommitId',
    'Workspace',
    'AccessToken',
    'TokenType',
    'InstallationId',
    'NextToken',
    'ExpiresIn',
    'Junk',
  ]

  it('answers malformed extension calls with 4xx AWS errors', async () => {
    const before = await snapshot()
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(extensionOperations)),
        fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 5 }),
        async (op, body) => {
          if (op === 'CompleteConnection' || op === 'UpdateConnectionInstallation')
            body['ConnectionArn'] = pending
          const r = await ext(f, op, body)
          if (r.status >= 400) {
            expect(r.status).toBeLessThan(500)
            expect(typeof r.json.__type).toBe('string')
          }
        },
      ),
      { numRuns: 250 },
    )
    expect(await snapshot()).toBe(before)
  })

  it('answers garbage on the handshake pages, archive links and webhook ingress without a 5xx', async () => {
    const before = await snapshot()
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'callback',
          'install',
          'archive',
          'webhook',
          'other',
          'console',
          'console-post',
        ),
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 200 }),
        async (route, a, b) => {
          let res: Response
          const e = encodeURIComponent
          if (route === 'callback')
            res = await fetch(`${f.server.url}/oauth/bitbucket/callback?state=${e(a)}&code=${e(b)}`)
          else if (route === 'install')
            res = await fetch(`${f.server.url}/oauth/bitbucket/install`, {
              method: 'POST',
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                cookie: `junction_handshake=${e(b)}`,
              },
              body: `handshake=${e(a)}&csrf=${e(b)}&choice=target:${e(a)}`,
            })
          else if (route === 'archive')
            res = await fetch(`${f.server.url}/connections/archive/${e(a) || 'x'}`)
          else if (route === 'webhook')
            res = await fetch(`${f.server.url}/webhooks/${e(a) || 'x'}`, {
              method: 'POST',
              headers: { 'x-hub-signature': b },
              body: b,
            })
          else if (route === 'console')
            res = await fetch(
              `${f.server.url}/console/${e(a)}?arn=${e(b)}&q=${e(b)}&page=${e(a)}`,
              {
                headers: { cookie: `junction_console=${e(b)}` },
                redirect: 'manual',
              },
            )
          else if (route === 'console-post')
            res = await fetch(
              `${f.server.url}/console/${['signin', 'connections/new', 'connection/delete', 'host/update', 'settings/app'][a.length % 5]}`,
              {
                method: 'POST',
                headers: {
                  'content-type': 'application/x-www-form-urlencoded',
                  cookie: `junction_console=${e(a)}`,
                },
                body: `accessKeyId=${e(a)}&secretAccessKey=${e(b)}&csrf=${e(b)}&name=${e(a)}&arn=${e(b)}&next=${e(a)}`,
                redirect: 'manual',
              },
            )
          else res = await fetch(`${f.server.url}/oauth/${e(a) || 'x'}/${e(b) || 'y'}`)
          await res.arrayBuffer()
          expect(res.status, `${route} ${a} ${b}`).toBeGreaterThanOrEqual(200)
          expect(res.status, `${route} ${a} ${b}`).toBeLessThan(500)
        },
      ),
      { numRuns: 300 },
    )
    expect(await snapshot()).toBe(before)
    expect((await fetch(`${f.server.url}/health`)).status).toBe(200)
  })

  it('answers garbage from a signed-in console session without a 5xx', async () => {
    // Signed in from an address of its own: the garbage sign-ins of the test above, all from
    // 127.0.0.1, have that address throttled (as a brute force from it should be).
    const signin = await sendFrom('127.0.0.7', `${f.server.url}/console/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        accessKeyId: f.server.credentials.accessKeyId,
        secretAccessKey: f.server.credentials.secretAccessKey,
      }).toString(),
    })
    const setCookie = signin.headers['set-cookie']
    const cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]!
    const html = await (
      await fetch(`${f.server.url}/console/connections/new`, { headers: { cookie } })
    ).text()
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!
    const before = await snapshot()
    const routes = [
      'connections/new',
      'connection/tag',
      'connection/untag',
      'connection/authorize',
      'connection/delete',
      'hosts/new',
      'host/update',
      'host/delete',
      'settings/app',
    ]
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.dictionary(
          fc.constantFrom(
            'provider',
            'name',
            'tags',
            'arn',
            'key',
            'value',
            'confirm',
            'endpoint',
            'vpcId',
            'subnetIds',
            'providerType',
            'clientId',
            'clientSecret',
          ),
          fc.string({ maxLength: 60 }),
          { maxKeys: 6 },
        ),
        async (route, fields) => {
          // Never delete for real: the property is about answers, the snapshot about changes.
          if (fields['confirm'] === 'delete') fields['confirm'] = 'nope'
          if (route === 'settings/app') fields['providerType'] = 'NotAProvider'
          if (route === 'connections/new' || route === 'hosts/new') fields['name'] = 'x'.repeat(80) // too long: refused, nothing created
          const res = await fetch(`${f.server.url}/console/${route}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
            body: new URLSearchParams({ ...fields, csrf }),
            redirect: 'manual',
          })
          await res.arrayBuffer()
          expect(res.status, `${route} ${JSON.stringify(fields)}`).toBeLessThan(500)
        },
      ),
      { numRuns: 200 },
    )
    expect(await snapshot()).toBe(before)
  })
})
