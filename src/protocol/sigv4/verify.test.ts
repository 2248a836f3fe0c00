/**
 * The verifier against requests signed by an independent implementation (@smithy/signature-v4),
 * with the verifier's clock set by the test: every refusal with AWS's code and message, every
 * boundary of the clock checks, and the key lookup's answers.
 */
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { describe, expect, it } from 'vitest'
import { AwsError } from '../../errors/aws-error.js'
import { MAX_SKEW_MS, SigV4Verifier, type KeyInfo, type SignedRequest } from './verify.js'

const AK = 'AKIDEXAMPLE'
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5)
const BODY = '{"MaxResults":1}'

interface Req {
  method?: string
  path?: string
  query?: Record<string, string>
  headers?: Record<string, string>
  body?: string
}

function httpRequest(r: Req = {}) {
  return {
    method: r.method ?? 'POST',
    protocol: 'http:',
    hostname: 'junction.test',
    path: r.path ?? '/',
    query: r.query ?? {},
    headers: {
      host: 'junction.test',
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'CodeStar_connections_20191201.ListConnections',
      ...r.headers,
    },
    body: r.body ?? BODY,
  }
}

const smithy = (service = 'codestar-connections', secret = SECRET, sessionToken?: string) =>
  new SignatureV4({
    credentials: { accessKeyId: AK, secretAccessKey: secret, sessionToken },
    region: 'eu-west-1',
    service,
    sha256: Hash.bind(null, 'sha256'),
  })

/** What Node's HTTP server would hand the verifier for this request. */
function received(h: {
  method: string
  path: string
  query: Record<string, string | string[] | null>
  headers: Record<string, string>
  body?: unknown
}): SignedRequest {
  const qs = Object.entries(h.query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')
  const rawHeaders = Object.entries(h.headers).flat()
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(h.headers)) headers[k.toLowerCase()] = v
  return {
    method: h.method,
    url: qs ? `${h.path}?${qs}` : h.path,
    headers,
    rawHeaders,
    body: Buffer.from(typeof h.body === 'string' ? h.body : ''),
  }
}

async function signed(r: Req = {}, at = T0, opts: { service?: string; token?: string } = {}) {
  const s = await smithy(opts.service, SECRET, opts.token).sign(httpRequest(r), {
    signingDate: new Date(at),
  })
  return received(s as never)
}

async function presigned(r: Req = {}, at = T0, expiresIn = 300) {
  const s = await smithy().presign(httpRequest(r), { signingDate: new Date(at), expiresIn })
  return received(s as never)
}

const KEYS: Record<string, KeyInfo<string>> = { [AK]: { secret: SECRET, record: 'user-1' } }

function verifier(
  now = T0,
  keys: Record<string, KeyInfo<string>> = KEYS,
  throttle?: { signatureFailed(id: string): void },
) {
  return new SigV4Verifier<string>(
    (id) => keys[id],
    throttle,
    () => now,
  )
}

/** The AwsError a verification throws (synchronously or by rejecting). */
async function refusal(f: () => unknown): Promise<AwsError> {
  try {
    await f()
  } catch (e) {
    expect(e).toBeInstanceOf(AwsError)
    return e as AwsError
  }
  throw new Error('verification passed')
}

async function expectRefused(
  f: () => unknown,
  code: string,
  message: string | RegExp,
  status = code === 'MissingAuthenticationTokenException' ? 403 : undefined,
) {
  const e = await refusal(f)
  expect(e.code).toBe(code)
  if (typeof message === 'string') expect(e.message).toBe(message)
  else expect(e.message).toMatch(message)
  if (status !== undefined) expect(e.statusCode).toBe(status)
  return e
}

/** Replaces one part of the Authorization header. */
function withAuth(req: SignedRequest, edit: (auth: string) => string): SignedRequest {
  const auth = edit(req.headers['authorization'] as string)
  const rawHeaders = [...req.rawHeaders]
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.toLowerCase() === 'authorization') rawHeaders[i + 1] = auth
  return { ...req, headers: { ...req.headers, authorization: auth }, rawHeaders }
}

const sigOf = (req: SignedRequest) =>
  /Signature=([0-9a-f]+)/.exec(req.headers['authorization'] as string)![1]!

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

describe('SigV4Verifier, Authorization header', () => {
  it('accepts a request signed by another implementation and says who signed it', async () => {
    const req = await signed()
    expect(verifier().verify(req, 'codestar-connections')).toEqual({
      accessKeyId: AK,
      region: 'eu-west-1',
      service: 'codestar-connections',
      record: 'user-1',
    })
  })

  it('accepts a path and query string, and a GET with an empty body', async () => {
    const req = await signed({ method: 'GET', path: '/a/b', query: { z: '1', a: 'x y' }, body: '' })
    expect(req.url).toContain('?')
    expect(verifier().verify(req, 'codestar-connections')).toMatchObject({ record: 'user-1' })
  })

  it('answers from an asynchronous key lookup too', async () => {
    const req = await signed()
    const v = new SigV4Verifier<string>(
      (id) => Promise.resolve(KEYS[id]),
      undefined,
      () => T0,
    )
    const out = v.verify(req, 'codestar-connections')
    expect(out).toBeInstanceOf(Promise)
    expect(await out).toMatchObject({ accessKeyId: AK, record: 'user-1' })
    const bad = withAuth(req, (a) => a.replace(/Signature=\w+/, `Signature=${'0'.repeat(64)}`))
    await expectRefused(
      () => v.verify(bad, 'codestar-connections'),
      'InvalidSignatureException',
      MISMATCH,
    )
  })

  it('refuses a request with no authentication', async () => {
    const req = await signed()
    const { authorization: _a, ...headers } = req.headers
    await expectRefused(
      () => verifier().verify({ ...req, headers }, 'codestar-connections'),
      'MissingAuthenticationTokenException',
      'Missing Authentication Token',
    )
  })

  it('refuses a header and query authentication together', async () => {
    const req = await signed()
    for (const q of ['X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Signature=abc'])
      await expectRefused(
        () => verifier().verify({ ...req, url: `/?${q}` }, 'codestar-connections'),
        'IncompleteSignatureException',
        /^Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query parameter or the Authorization header should be specified$/,
      )
  })

  it('refuses another algorithm, naming it (cut at 64 characters)', async () => {
    const req = await signed()
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')),
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'. Supported algorithm: AWS4-HMAC-SHA256",
    )
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, () => 'X'.repeat(100)),
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      `Unsupported AWS 'algorithm': '${'X'.repeat(64)}'. Supported algorithm: AWS4-HMAC-SHA256`,
    )
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, () => 'AWS4-HMAC-SHA256'),
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
    )
  })

  it('reads the three parameters in any order and with any spacing', async () => {
    const req = await signed()
    const auth = req.headers['authorization'] as string
    const [, cred, sh, sig] = /Credential=([^,]+), SignedHeaders=([^,]+), Signature=(\w+)/.exec(
      auth,
    )!
    const reordered = withAuth(
      req,
      () => `AWS4-HMAC-SHA256 Signature=${sig},SignedHeaders=${sh} ,  Credential=${cred}`,
    )
    expect(verifier().verify(reordered, 'codestar-connections')).toMatchObject({ record: 'user-1' })
    const extra = withAuth(
      req,
      () =>
        `AWS4-HMAC-SHA256 Foo=bar, Credential=${cred}, SignedHeaders=${sh}, Signature=${sig}, x`,
    )
    expect(verifier().verify(extra, 'codestar-connections')).toMatchObject({ record: 'user-1' })
  })

  it('names each missing parameter', async () => {
    const req = await signed()
    const auth = req.headers['authorization'] as string
    const [, cred, sh, sig] = /Credential=([^,]+), SignedHeaders=([^,]+), Signature=(\w+)/.exec(
      auth,
    )!
    const cases: [string, string][] = [
      [
        `SignedHeaders=${sh}, Signature=${sig}`,
        "Authorization header requires 'Credential' parameter.",
      ],
      [
        `Credential=${cred}, SignedHeaders=${sh}`,
        "Authorization header requires 'Signature' parameter.",
      ],
      [
        `Credential=${cred}, Signature=${sig}`,
        "Authorization header requires 'SignedHeaders' parameter.",
      ],
      [
        `Credential=, SignedHeaders=${sh}, Signature=${sig}`,
        "Authorization header requires 'Credential' parameter.",
      ],
      [
        `=${cred}, SignedHeaders=${sh}, Signature=${sig}`,
        "Authorization header requires 'Credential' parameter.",
      ],
      [
        `Credential ${cred}, SignedHeaders=${sh}, Signature=${sig}`,
        "Authorization header requires 'Credential' parameter.",
      ],
    ]
    for (const [params, message] of cases)
      await expectRefused(
        () =>
          verifier().verify(
            withAuth(req, () => `AWS4-HMAC-SHA256 ${params}`),
            'codestar-connections',
          ),
        'IncompleteSignatureException',
        message,
      )
  })

  it('requires X-Amz-Date with the header form', async () => {
    const req = await signed()
    const { 'x-amz-date': _d, ...headers } = req.headers
    await expectRefused(
      () => verifier().verify({ ...req, headers }, 'codestar-connections'),
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    )
  })

  it('refuses a credential scope that is not key/date/region/service/aws4_request', async () => {
    const req = await signed()
    const scopes = [
      'AKIDEXAMPLE',
      '/20260102/eu-west-1/codestar-connections/aws4_request',
      'AKIDEXAMPLE//eu-west-1/codestar-connections/aws4_request',
      'AKIDEXAMPLE/20260102//codestar-connections/aws4_request',
      'AKIDEXAMPLE/20260102/eu-west-1//aws4_request',
      'AKIDEXAMPLE/20260102/eu-west-1/codestar-connections/',
      'AKIDEXAMPLE/20260102/eu-west-1/codestar-connections',
      'AKIDEXAMPLE/20260102/eu-west-1/codestar-connections/aws4_request/x',
      'AKIDEXAMPLE/20260102/eu-west-1/codestar-connections/aws4_request/',
    ]
    for (const scope of scopes)
      await expectRefused(
        () =>
          verifier().verify(
            withAuth(req, (a) => a.replace(/Credential=[^,]+/, `Credential=${scope}`)),
            'codestar-connections',
          ),
        'IncompleteSignatureException',
        `Credential should be scoped to a valid region, service and date: '${scope}'.`,
      )
    const long = 'A'.repeat(200) + '/x'
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) => a.replace(/Credential=[^,]+/, `Credential=${long}`)),
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      `Credential should be scoped to a valid region, service and date: '${long.slice(0, 128)}'.`,
    )
  })

  it('refuses another terminator, naming it (cut at 64 characters)', async () => {
    const req = await signed()
    const scope = (t: string) => `AKIDEXAMPLE/20260102/eu-west-1/codestar-connections/${t}`
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) =>
            a.replace(/Credential=[^,]+/, `Credential=${scope('aws4_requesx')}`),
          ),
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesx'.",
    )
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) =>
            a.replace(/Credential=[^,]+/, `Credential=${scope('t'.repeat(80))}`),
          ),
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${'t'.repeat(64)}'.`,
    )
  })

  it('refuses an X-Amz-Date not in ISO 8601 basic format', async () => {
    const req = await signed()
    const bad = [
      '2026-01-02T03:04:05Z',
      '20260102T030405',
      '20260102X030405Z',
      '20260102T030405X',
      '2026010aT030405Z',
      '20260102T03040/Z',
      '20260102T03040:Z',
      '2026 102T030405Z',
      ' 0260102T030405Z',
    ]
    for (const d of bad)
      await expectRefused(
        () =>
          verifier().verify(
            { ...req, headers: { ...req.headers, 'x-amz-date': d } },
            'codestar-connections',
          ),
        'IncompleteSignatureException',
        `Date must be in ISO-8601 'basic format'. Got '${d}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      )
    const long = 'x'.repeat(40)
    await expectRefused(
      () =>
        verifier().verify(
          { ...req, headers: { ...req.headers, 'x-amz-date': long } },
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${'x'.repeat(32)}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    )
  })

  it('refuses a credential date that is not the X-Amz-Date day', async () => {
    const req = await signed()
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) => a.replace('/20260102/', '/20260103/')),
          'codestar-connections',
        ),
      'InvalidSignatureException',
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260103' != '20260102', from '20260102T030405Z'.",
    )
    // A long scope date is echoed cut to 16 characters (the message never carries unbounded input).
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) => a.replace('/20260102/', `/${'9'.repeat(40)}/`)),
          'codestar-connections',
        ),
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${'9'.repeat(16)}' != '20260102', from '20260102T030405Z'.`,
    )
  })

  it('refuses a signature scoped to another service', async () => {
    const req = await signed({}, T0, { service: 'codepipeline' })
    await expectRefused(
      () => verifier().verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      "Credential should be scoped to correct service: 'codestar-connections'. ",
    )
  })

  it('requires Host, Content-Type and x-amz-* headers to be signed, each once', async () => {
    const req = await signed()
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) =>
            a.replace('SignedHeaders=content-type;host;', 'SignedHeaders=content-type;'),
          ),
          'codestar-connections',
        ),
      'InvalidSignatureException',
      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    )
    await expectRefused(
      () =>
        verifier().verify(
          withAuth(req, (a) => a.replace('SignedHeaders=content-type;', 'SignedHeaders=')),
          'codestar-connections',
        ),
      'InvalidSignatureException',
      "'Content-Type' must be a 'SignedHeader' in the AWS Authorization.",
    )
    const twice = { ...req, rawHeaders: [...req.rawHeaders, 'X-Amz-Target', 'Other.Op'] }
    await expectRefused(
      () => verifier().verify(twice, 'codestar-connections'),
      'InvalidSignatureException',
      "The request carries the header 'X-Amz-Target' more than once; a signed request may carry it only once.",
    )
  })

  it('accepts a signature exactly 15 minutes old or early, and refuses one a millisecond more', async () => {
    const req = await signed()
    expect(verifier(T0 + MAX_SKEW_MS).verify(req, 'codestar-connections')).toMatchObject({
      record: 'user-1',
    })
    expect(verifier(T0 - MAX_SKEW_MS).verify(req, 'codestar-connections')).toMatchObject({
      record: 'user-1',
    })
    await expectRefused(
      () => verifier(T0 + MAX_SKEW_MS + 1).verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      'Signature expired: 20260102T030405Z is now earlier than 20260102T030405Z (20260102T031905Z - 15 min.)',
    )
    await expectRefused(
      () => verifier(T0 - MAX_SKEW_MS - 1).verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      'Signature not yet current: 20260102T030405Z is still later than 20260102T030404Z (20260102T024904Z + 15 min.)',
    )
    expect(MAX_SKEW_MS).toBe(15 * 60 * 1000)
  })

  it('takes the time from its clock, or from the caller', async () => {
    const req = await signed()
    expect(verifier(0).verify(req, 'codestar-connections', T0)).toMatchObject({ record: 'user-1' })
    await expectRefused(
      () => verifier(0).verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      /^Signature not yet current/,
    )
    const real = new SigV4Verifier<string>((id) => KEYS[id])
    await expectRefused(
      () => real.verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      /^Signature expired/,
    )
    const fresh = await signed({}, Date.now())
    expect(real.verify(fresh, 'codestar-connections')).toMatchObject({ record: 'user-1' })
  })

  it('refuses an unknown key, a wrong or missing session token, and an expired key', async () => {
    const req = await signed()
    await expectRefused(
      () => verifier(T0, {}).verify(req, 'codestar-connections'),
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
    const temp = { [AK]: { secret: SECRET, record: 'r', sessionToken: 'tok', expiresAt: T0 + 1 } }
    await expectRefused(
      () => verifier(T0, temp).verify(req, 'codestar-connections'),
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
    const withToken = await signed({}, T0, { token: 'tok' })
    expect(verifier(T0, temp).verify(withToken, 'codestar-connections')).toMatchObject({
      record: 'r',
    })
    await expectRefused(
      () => verifier(T0, KEYS).verify(withToken, 'codestar-connections'),
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
    const wrong = await signed({}, T0, { token: 'other' })
    await expectRefused(
      () => verifier(T0, temp).verify(wrong, 'codestar-connections'),
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
    await expectRefused(
      () => verifier(T0 + 1, temp).verify(withToken, 'codestar-connections'),
      'ExpiredTokenException',
      'The security token included in the request is expired',
    )
  })

  it('refuses a signature that is wrong, cut, lengthened, upper case or not hex, counting each', async () => {
    const req = await signed()
    const sig = sigOf(req)
    const failed: string[] = []
    const throttle = { signatureFailed: (id: string) => void failed.push(id) }
    const variants = [
      sig.toUpperCase(),
      sig.slice(0, 63),
      sig + '0',
      sig.slice(0, 63) + (sig[63] === '0' ? '1' : '0'),
      sig.slice(0, 63) + 'g',
      sig.slice(0, 62) + 'é',
      '',
    ].filter((v) => v !== sig)
    for (const v of variants) {
      const bad = withAuth(req, (a) => a.replace(/Signature=\w+/, `Signature=${v}`))
      if (v === '') continue
      await expectRefused(
        () => verifier(T0, KEYS, throttle).verify(bad, 'codestar-connections'),
        'InvalidSignatureException',
        MISMATCH,
        403,
      )
    }
    expect(failed).toEqual(variants.filter((v) => v !== '').map(() => AK))
    expect(verifier(T0, KEYS, throttle).verify(req, 'codestar-connections')).toMatchObject({
      record: 'user-1',
    })
    expect(failed).toHaveLength(variants.length - 1)
  })

  it('refuses a request changed after signing: method, path, query, header, body', async () => {
    const req = await signed({ path: '/p', query: { a: '1' } })
    const changes: SignedRequest[] = [
      { ...req, method: 'PUT' },
      { ...req, url: req.url.replace('/p', '/q') },
      { ...req, url: req.url.replace('a=1', 'a=2') },
      {
        ...req,
        headers: { ...req.headers, 'x-amz-target': 'X.Y' },
        rawHeaders: req.rawHeaders.map((v) =>
          v === 'CodeStar_connections_20191201.ListConnections' ? 'X.Y' : v,
        ),
      },
      { ...req, body: Buffer.from('{}') },
    ]
    for (const c of changes)
      await expectRefused(
        () => verifier().verify(c, 'codestar-connections'),
        'InvalidSignatureException',
        MISMATCH,
      )
  })

  it('derives keys per secret: a rotated secret never meets the old derived key', async () => {
    const req = await signed()
    const keys: Record<string, KeyInfo<string>> = { [AK]: { secret: SECRET, record: 'a' } }
    const v = verifier(T0, keys)
    expect(v.verify(req, 'codestar-connections')).toMatchObject({ record: 'a' })
    keys[AK] = { secret: 'rotated', record: 'a' }
    await expectRefused(
      () => v.verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      MISMATCH,
    )
    keys[AK] = { secret: SECRET, record: 'b' }
    expect(v.verify(req, 'codestar-connections')).toMatchObject({ record: 'b' })
  })
})

describe('SigV4Verifier, presigned query string', () => {
  it('accepts a presigned request until it expires, and not a millisecond after', async () => {
    const req = await presigned({}, T0, 300)
    expect(req.headers['authorization']).toBeUndefined()
    expect(verifier(T0).verify(req, 'codestar-connections')).toMatchObject({ record: 'user-1' })
    expect(verifier(T0 + 300_000).verify(req, 'codestar-connections')).toMatchObject({
      record: 'user-1',
    })
    await expectRefused(
      () => verifier(T0 + 300_001).verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      'Signature expired: 20260102T030905Z is now earlier than 20260102T030905Z.',
    )
  })

  it('refuses a presigned request dated more than 15 minutes ahead', async () => {
    const req = await presigned({}, T0, 300)
    expect(verifier(T0 - MAX_SKEW_MS).verify(req, 'codestar-connections')).toMatchObject({
      record: 'user-1',
    })
    await expectRefused(
      () => verifier(T0 - MAX_SKEW_MS - 1000).verify(req, 'codestar-connections'),
      'InvalidSignatureException',
      'Signature not yet current: 20260102T030405Z is still later than 20260102T030404Z (20260102T024904Z + 15 min.)',
    )
  })

  it('refuses a presigned signature that does not match, counting it', async () => {
    const req = await presigned()
    const failed: string[] = []
    const bad = {
      ...req,
      url: req.url.replace(
        /X-Amz-Signature=(\w)/,
        (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
      ),
    }
    await expectRefused(
      () =>
        verifier(T0, KEYS, { signatureFailed: (id) => void failed.push(id) }).verify(
          bad,
          'codestar-connections',
        ),
      'InvalidSignatureException',
      MISMATCH,
    )
    expect(failed).toEqual([AK])
  })

  it('refuses a presigned request without an algorithm or with another', async () => {
    const req = await presigned()
    await expectRefused(
      () =>
        verifier().verify(
          { ...req, url: req.url.replace(/X-Amz-Algorithm=[^&]+&?/, '') },
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      "Unsupported AWS 'algorithm': ''. Supported algorithm: AWS4-HMAC-SHA256",
    )
    await expectRefused(
      () =>
        verifier().verify(
          {
            ...req,
            url: req.url.replace(/X-Amz-Algorithm=[^&]+/, `X-Amz-Algorithm=${'Y'.repeat(80)}`),
          },
          'codestar-connections',
        ),
      'IncompleteSignatureException',
      `Unsupported AWS 'algorithm': '${'Y'.repeat(64)}'. Supported algorithm: AWS4-HMAC-SHA256`,
    )
  })

  it('names every missing query parameter', async () => {
    const req = await presigned()
    for (const k of [
      'X-Amz-Credential',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
      'X-Amz-Date',
      'X-Amz-Expires',
    ]) {
      const url = req.url.replace(new RegExp(`${k}=[^&]*`), `${k}=`)
      await expectRefused(
        () => verifier().verify({ ...req, url }, 'codestar-connections'),
        'IncompleteSignatureException',
        `AWS query-string parameters must include '${k}'.`,
      )
    }
    const url = req.url.replace(/X-Amz-Credential=[^&]*/, '').replace(/X-Amz-Expires=[^&]*/, '')
    await expectRefused(
      () => verifier().verify({ ...req, url }, 'codestar-connections'),
      'IncompleteSignatureException',
      "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Expires'.",
    )
  })

  it('accepts X-Amz-Expires from 1 second to 7 days only, in whole seconds', async () => {
    expect(verifier().verify(await presigned({}, T0, 1), 'codestar-connections')).toMatchObject({
      record: 'user-1',
    })
    expect(
      verifier().verify(await presigned({}, T0, 604_800), 'codestar-connections'),
    ).toMatchObject({ record: 'user-1' })
    const req = await presigned()
    for (const e of ['0', '-1', '604801', '1.5', 'x'])
      await expectRefused(
        () =>
          verifier().verify(
            { ...req, url: req.url.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${e}`) },
            'codestar-connections',
          ),
        'IncompleteSignatureException',
        'X-Amz-Expires must be an integer between 1 and 604800 seconds',
      )
  })

  it('reads the security token from the query string', async () => {
    const temp = { [AK]: { secret: SECRET, record: 'r', sessionToken: 'tok' } }
    const s = await smithy('codestar-connections', SECRET, 'tok').presign(httpRequest(), {
      signingDate: new Date(T0),
      expiresIn: 60,
    })
    const req = received(s as never)
    expect(req.url).toContain('X-Amz-Security-Token=tok')
    expect(verifier(T0, temp).verify(req, 'codestar-connections')).toMatchObject({ record: 'r' })
    await expectRefused(
      () => verifier(T0, KEYS).verify(req, 'codestar-connections'),
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
  })
})
