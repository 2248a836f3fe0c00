import { describe, expect, it } from 'vitest'
import { operationNames } from '../../src/generated/operations.js'
import { describeApi, expectAwsError } from '../helpers/api.js'

const supported = new Set([
  'CreateConnection',
  'GetConnection',
  'ListConnections',
  'DeleteConnection',
  'CreateHost',
  'GetHost',
  'ListHosts',
  'UpdateHost',
  'DeleteHost',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
])

describeApi('Protocol and routing', (f) => {
  describe('X-Amz-Target', () => {
    it('returns UnknownOperationException without a target', async () => {
      expectAwsError(await f.raw.call({ target: null }), 'UnknownOperationException')
    })
    it('returns UnknownOperationException for an unknown operation', async () => {
      expectAwsError(
        await f.raw.call({ target: 'CodeConnections_20231201.ListPipelines' }),
        'UnknownOperationException',
      )
    })
    it('returns UnknownOperationException for another service prefix', async () => {
      expectAwsError(
        await f.raw.call({ target: 'DynamoDB_20120810.ListConnections' }),
        'UnknownOperationException',
      )
      expectAwsError(
        await f.raw.call({
          target: 'com.amazonaws.codestar.connections.CodeConnections_20231201.ListConnections',
        }),
        'UnknownOperationException',
      )
    })
    it('requires the credential scope to name the service of the target', async () => {
      const res = await f.raw.call({
        service: 'codestar-connections',
        signingService: 'codeconnections',
        operation: 'ListConnections',
      })
      expectAwsError(
        res,
        'InvalidSignatureException',
        403,
        "Credential should be scoped to correct service: 'codestar-connections'. ",
      )
    })
  })

  describe('operations Junction does not support yet', () => {
    const unsupported = operationNames.filter((op) => !supported.has(op))
    it('lists 15 of them', () => expect(unsupported).toHaveLength(15))
    for (const op of unsupported)
      it(`answers ${op} with UnsupportedOperationException on both endpoints`, async () => {
        for (const service of ['codestar-connections', 'codeconnections'] as const) {
          const res = await f.raw.call({ service, operation: op, body: {} })
          expectAwsError(
            res,
            'UnsupportedOperationException',
            400,
            new RegExp(`^${op} is not supported by Junction yet`),
          )
        }
      })
    it('still authenticates before saying so', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'CreateRepositoryLink', credentials: null }),
        'MissingAuthenticationTokenException',
        403,
      )
    })
  })

  describe('HTTP', () => {
    it('answers GET /health with 200 JSON', async () => {
      const res = await fetch(`${f.server.url}/health`)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ status: 'ok', store: f.engine })
    })
    it('sends GET / to the console, answers 405 for PUT / and 404 for other paths, AWS-shaped', async () => {
      const get = await fetch(f.server.url, { redirect: 'manual' })
      expect(get.status).toBe(303)
      expect(get.headers.get('location')).toBe('/console')
      const put = await fetch(f.server.url, { method: 'PUT', body: '{}' })
      expect(put.status).toBe(405)
      expect(((await put.json()) as { __type: string }).__type).toBe('MethodNotAllowedException')
      const other = await fetch(`${f.server.url}/nope`, { method: 'POST', body: '{}' })
      expect(other.status).toBe(404)
      expect(((await other.json()) as { __type: string }).__type).toBe('NotFoundException')
    })
    it('refuses a body over 1 MiB with 413 and creates nothing', async () => {
      const before = (await f.server.store.connections.list('000000000000', {}, 0, 1000)).length
      const big = JSON.stringify({
        ConnectionName: 'big',
        ProviderType: 'GitHub',
        Padding: 'x'.repeat(1024 * 1024),
      })
      const res = await f.raw.call({ operation: 'CreateConnection', rawBody: big })
      expectAwsError(res, 'RequestEntityTooLargeException', 413)
      expect((await f.server.store.connections.list('000000000000', {}, 0, 1000)).length).toBe(
        before,
      )
    })
    it('accepts a body of exactly 1 MiB', async () => {
      const base = JSON.stringify({ Padding: '' })
      const body = JSON.stringify({ Padding: 'x'.repeat(1024 * 1024 - base.length) })
      expect(Buffer.byteLength(body)).toBe(1024 * 1024)
      expect((await f.raw.call({ operation: 'ListConnections', rawBody: body })).status).toBe(200)
    })
    it('treats an empty body as {}', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', rawBody: '' })
      expect(res.status).toBe(200)
      expect(res.json).toHaveProperty('Connections')
    })
    it('returns SerializationException for a JSON scalar body', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'ListConnections', rawBody: '"hello"' }),
        'SerializationException',
      )
      expectAwsError(
        await f.raw.call({ operation: 'ListConnections', rawBody: 'null' }),
        'SerializationException',
      )
    })
    it('sends x-amzn-RequestId on success and the JSON 1.0 content type', async () => {
      const res = await f.raw.call({ operation: 'ListConnections' })
      expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/)
      expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.0')
    })
  })
})
