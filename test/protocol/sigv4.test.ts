import { describe, expect, it } from 'vitest'
import { describeApi, expectAwsError } from '../helpers/api.js'

const minutes = (n: number) => new Date(Date.now() + n * 60_000)

describeApi('SigV4 verification', (f) => {
  describe('Authorization header', () => {
    it('accepts a request signed 14 minutes ago', async () => {
      expect(
        (await f.raw.call({ operation: 'ListConnections', signingDate: minutes(-14) })).status,
      ).toBe(200)
    })
    it('refuses a request signed 16 minutes ago with "Signature expired"', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', signingDate: minutes(-16) })
      expectAwsError(
        res,
        'InvalidSignatureException',
        403,
        /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
      )
    })
    it('refuses a request signed 16 minutes in the future', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', signingDate: minutes(16) })
      expectAwsError(res, 'InvalidSignatureException', 403, /^Signature not yet current/)
    })
    it('refuses a body changed after signing', async () => {
      const res = await f.raw.call({
        operation: 'CreateConnection',
        body: { ConnectionName: 'a', ProviderType: 'GitHub' },
        headers: {},
      })
      expect(res.status).toBe(200)
      // Sign one body, send another.
      const u = new URL(f.server.url)
      const signed = await signedHeaders(f, { ConnectionName: 'b', ProviderType: 'GitHub' })
      const tampered = await fetch(f.server.url, {
        method: 'POST',
        headers: signed,
        body: JSON.stringify({ ConnectionName: 'c', ProviderType: 'GitHub' }),
      })
      expect(tampered.status).toBe(403)
      expect(((await tampered.json()) as { __type: string }).__type).toBe(
        'InvalidSignatureException',
      )
      expect(u.host).toBeTruthy()
    })
    it('refuses the right signature in upper case, cut short, lengthened or with a stray character', async () => {
      const variants: [string, (sig: string) => string][] = [
        ['upper case', (sig) => sig.toUpperCase()],
        ['63 characters', (sig) => sig.slice(0, 63)],
        ['65 characters', (sig) => `${sig}0`],
        ['a non-hex character', (sig) => `${sig.slice(0, 63)}g`],
        ['a non-ASCII character', (sig) => `${sig.slice(0, 63)}\u00e1`],
        ['empty', () => ''],
      ]
      for (const [what, change] of variants) {
        const res = await f.raw.call({
          operation: 'ListConnections',
          afterSign: (h) => {
            h['authorization'] = h['authorization']!.replace(
              /Signature=([0-9a-f]{64})$/,
              (_m, sig: string) => `Signature=${change(sig)}`,
            )
          },
        })
        // A signature that does not match is 403; one missing altogether is incomplete, 400.
        const [status, type] =
          what === 'empty'
            ? [400, 'IncompleteSignatureException']
            : [403, 'InvalidSignatureException']
        expect({ what, status: res.status, type: res.json.__type }).toEqual({ what, status, type })
      }
      // The unchanged signature passes (the variants differ only in what was changed).
      expect((await f.raw.call({ operation: 'ListConnections', afterSign: () => {} })).status).toBe(
        200,
      )
    })
    it('refuses a signed X-Amz-Target changed after signing', async () => {
      const headers = await signedHeaders(f, {})
      headers['x-amz-target'] = 'CodeConnections_20231201.DeleteConnection'
      const res = await fetch(f.server.url, { method: 'POST', headers, body: '{}' })
      expect(((await res.json()) as { __type: string }).__type).toBe('InvalidSignatureException')
    })
    it('returns IncompleteSignatureException for a header without Signature and SignedHeaders', async () => {
      const res = await f.raw.call({
        credentials: null,
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${f.server.credentials.accessKeyId}/20260101/us-east-1/codeconnections/aws4_request`,
          'x-amz-date': '20260101T000000Z',
        },
      })
      expectAwsError(
        res,
        'IncompleteSignatureException',
        400,
        "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
      )
    })
    it('returns IncompleteSignatureException for another algorithm', async () => {
      const res = await f.raw.call({
        credentials: null,
        headers: { authorization: 'AWS AKIDEXAMPLE:signature' },
      })
      expectAwsError(res, 'IncompleteSignatureException', 400, /Unsupported AWS 'algorithm'/)
    })
    it('returns IncompleteSignatureException without X-Amz-Date', async () => {
      const headers = await signedHeaders(f, {})
      delete headers['x-amz-date']
      const res = await fetch(f.server.url, { method: 'POST', headers, body: '{}' })
      expect(((await res.json()) as { __type: string }).__type).toBe('IncompleteSignatureException')
    })
    it('returns IncompleteSignatureException for a malformed credential scope', async () => {
      const res = await f.raw.call({
        credentials: null,
        headers: {
          authorization: 'AWS4-HMAC-SHA256 Credential=abc, SignedHeaders=host, Signature=00',
          'x-amz-date': '20260101T000000Z',
        },
      })
      expectAwsError(res, 'IncompleteSignatureException')
    })
    it('refuses a scope date that differs from X-Amz-Date', async () => {
      const headers = await signedHeaders(f, {})
      headers['authorization'] = headers['authorization']!.replace(/\/(\d{8})\//, '/19990101/')
      const res = await fetch(f.server.url, { method: 'POST', headers, body: '{}' })
      const json = (await res.json()) as { __type: string; Message: string }
      expect(json.__type).toBe('InvalidSignatureException')
      expect(json.Message).toMatch(/Date in Credential scope does not match/)
    })
    it('refuses a session token that belongs to no temporary credential', async () => {
      const res = await f.raw.call({
        credentials: { ...f.server.credentials, sessionToken: 'made-up' },
      })
      expectAwsError(res, 'UnrecognizedClientException', 403)
    })
    it('accepts any region in the scope, like a single-region emulator', async () => {
      expect((await f.raw.call({ operation: 'ListConnections', region: 'eu-west-1' })).status).toBe(
        200,
      )
    })
  })

  describe('presigned query string', () => {
    it('accepts a presigned request', async () => {
      const res = await f.raw.call({
        operation: 'CreateConnection',
        body: { ConnectionName: 'presigned', ProviderType: 'GitHub' },
        presign: true,
      })
      expect(res.status).toBe(200)
      expect(res.json['ConnectionArn']).toMatch(/connection\//)
    })
    it('refuses a presigned request after X-Amz-Expires', async () => {
      const res = await f.raw.call({
        operation: 'ListConnections',
        presign: true,
        signingDate: minutes(-6),
      })
      expectAwsError(res, 'InvalidSignatureException', 403, /Signature expired/)
    })
    it('refuses a presigned request with a changed signature', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', presign: true, headers: {} })
      expect(res.status).toBe(200)
      const url = new URL(f.server.url)
      const amzDate = new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '')
      url.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256')
      url.searchParams.set(
        'X-Amz-Credential',
        `${f.server.credentials.accessKeyId}/${amzDate.slice(0, 8)}/us-east-1/codeconnections/aws4_request`,
      )
      url.searchParams.set('X-Amz-Date', amzDate)
      url.searchParams.set('X-Amz-Expires', '300')
      url.searchParams.set('X-Amz-SignedHeaders', 'content-type;host;x-amz-target')
      url.searchParams.set('X-Amz-Signature', '0'.repeat(64))
      const bad = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'CodeConnections_20231201.ListConnections',
        },
        body: '{}',
      })
      expect(bad.status).toBe(403)
      expect(((await bad.json()) as { Message: string }).Message).toMatch(
        /signature we calculated does not match/,
      )
    })
    it('refuses a request carrying both a header and a query signature', async () => {
      const headers = await signedHeaders(f, {})
      const res = await fetch(`${f.server.url}/?X-Amz-Algorithm=AWS4-HMAC-SHA256`, {
        method: 'POST',
        headers,
        body: '{}',
      })
      expect(((await res.json()) as { __type: string }).__type).toBe('IncompleteSignatureException')
    })
  })
})

/** Headers of a validly signed codeconnections ListConnections request for `body`. */
async function signedHeaders(
  f: { server: { url: string; credentials: { accessKeyId: string; secretAccessKey: string } } },
  body: unknown,
) {
  const { SignatureV4 } = await import('@smithy/signature-v4')
  const { Hash } = await import('@smithy/hash-node')
  const u = new URL(f.server.url)
  const signer = new SignatureV4({
    service: 'codeconnections',
    region: 'us-east-1',
    credentials: f.server.credentials,
    sha256: Hash.bind(null, 'sha256'),
  })
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: '/',
    headers: {
      host: u.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'CodeConnections_20231201.ListConnections',
    },
    body: JSON.stringify(body),
  })
  const { host: _h, ...headers } = signed.headers
  return headers as Record<string, string>
}
