/**
 * @module protocol/sigv4/verify
 * Verifies AWS Signature Version 4, in the Authorization header or in a presigned query string,
 * with the error codes and messages AWS answers with. Derived signing keys are cached per
 * (key, date, region, service): they change once a day.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from '../../errors/common.js'
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  deriveSigningKey,
  headerValues,
  parseQuery,
  sha256Hex,
  stringToSign,
} from './canonical.js'

export const ALGORITHM = 'AWS4-HMAC-SHA256'
/** AWS accepts requests signed up to 15 minutes before or after its clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000
const MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600

export interface SignedRequest {
  method: string
  /** Path and query as received (`IncomingMessage.url`). */
  url: string
  rawHeaders: string[]
  body: Buffer
}

/** What the verifier needs to know about an access key. */
export interface KeyLookup<T> {
  (accessKeyId: string): Promise<{ secret: string; record: T; sessionToken?: string } | undefined>
}

export interface VerifiedRequest<T> {
  accessKeyId: string
  region: string
  service: string
  record: T
}

interface Parsed {
  credential: string
  signedHeaders: string
  signature: string
  amzDate: string | undefined
  securityToken: string | undefined
  presigned: boolean
  expires?: number
}

function parseAuthorizationHeader(value: string): Omit<Parsed, 'amzDate' | 'securityToken'> {
  const space = value.indexOf(' ')
  const algorithm = space < 0 ? value : value.slice(0, space)
  if (algorithm !== ALGORITHM)
    throw new IncompleteSignatureException(
      `Unsupported AWS 'algorithm': '${algorithm.slice(0, 64)}'. Supported algorithm: ${ALGORITHM}`,
    )
  const fields = new Map<string, string>()
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders']
    .filter((k) => !fields.get(k))
    .map((k) => `Authorization header requires '${k}' parameter.`)
  if (missing.length > 0) throw new IncompleteSignatureException(missing.join(' '))
  return {
    credential: fields.get('Credential')!,
    signedHeaders: fields.get('SignedHeaders')!,
    signature: fields.get('Signature')!,
    presigned: false,
  }
}

function parsePresigned(query: Map<string, string>): Omit<Parsed, 'securityToken'> {
  const algorithm = query.get('X-Amz-Algorithm')
  if (algorithm !== ALGORITHM)
    throw new IncompleteSignatureException(
      `Unsupported AWS 'algorithm': '${(algorithm ?? '').slice(0, 64)}'. Supported algorithm: ${ALGORITHM}`,
    )
  const required = [
    'X-Amz-Credential',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
    'X-Amz-Date',
    'X-Amz-Expires',
  ]
  const missing = required.filter((k) => !query.get(k))
  if (missing.length > 0)
    throw new IncompleteSignatureException(
      missing.map((k) => `AWS query-string parameters must include '${k}'.`).join(' '),
    )
  const expires = Number(query.get('X-Amz-Expires'))
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_EXPIRES_S)
    throw new IncompleteSignatureException(
      `X-Amz-Expires must be an integer between 1 and ${MAX_PRESIGN_EXPIRES_S} seconds`,
    )
  return {
    credential: query.get('X-Amz-Credential')!,
    signedHeaders: query.get('X-Amz-SignedHeaders')!,
    signature: query.get('X-Amz-Signature')!,
    amzDate: query.get('X-Amz-Date'),
    presigned: true,
    expires,
  }
}

/** `20260102T030405Z` → epoch ms, or NaN. */
function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (!m) return NaN
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

const formatAmzDate = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')

export class SigV4Verifier<T> {
  readonly #lookup: KeyLookup<T>
  readonly #keys = new Map<string, Buffer>()

  constructor(lookup: KeyLookup<T>) {
    this.#lookup = lookup
  }

  #signingKey(secret: string, accessKeyId: string, date: string, region: string, service: string) {
    const id = `${accessKeyId}\0${secret}\0${date}\0${region}\0${service}`
    let key = this.#keys.get(id)
    if (!key) {
      if (this.#keys.size > 10_000) this.#keys.clear()
      key = deriveSigningKey(secret, date, region, service)
      this.#keys.set(id, key)
    }
    return key
  }

  /**
   * Verifies the request and returns who signed it. `expectedService` is the signing name of the
   * service the request is for: a signature scoped to another service is refused.
   */
  async verify(
    req: SignedRequest,
    expectedService: string,
    now = Date.now(),
  ): Promise<VerifiedRequest<T>> {
    const q = req.url.indexOf('?')
    const path = q < 0 ? req.url : req.url.slice(0, q)
    const queryPairs = parseQuery(q < 0 ? '' : req.url.slice(q + 1))
    const query = new Map(queryPairs)
    const headers = headerValues(req.rawHeaders)
    const authorization = headers.get('authorization')?.[0]
    const hasQueryAuth = query.has('X-Amz-Algorithm') || query.has('X-Amz-Signature')

    if (!authorization && !hasQueryAuth)
      throw new MissingAuthenticationTokenException('Missing Authentication Token')
    if (authorization && hasQueryAuth)
      throw new IncompleteSignatureException(
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query parameter or the Authorization header should be specified',
      )

    let parsed: Parsed
    if (authorization) {
      const fromHeader = parseAuthorizationHeader(authorization)
      const amzDate = headers.get('x-amz-date')?.[0]
      if (!amzDate)
        throw new IncompleteSignatureException(
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
      parsed = { ...fromHeader, amzDate, securityToken: headers.get('x-amz-security-token')?.[0] }
    } else {
      parsed = { ...parsePresigned(query), securityToken: query.get('X-Amz-Security-Token') }
    }

    const scope = parsed.credential.split('/')
    if (scope.length !== 5 || scope.some((s) => s === ''))
      throw new IncompleteSignatureException(
        `Credential should be scoped to a valid region, service and date: '${parsed.credential.slice(0, 128)}'.`,
      )
    const [accessKeyId, date, region, service, terminator] = scope as [
      string,
      string,
      string,
      string,
      string,
    ]
    if (terminator !== 'aws4_request')
      throw new IncompleteSignatureException(
        `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator.slice(0, 64)}'.`,
      )

    const signedAt = parseAmzDate(parsed.amzDate!)
    if (Number.isNaN(signedAt))
      throw new IncompleteSignatureException(
        `Date must be in ISO-8601 'basic format'. Got '${parsed.amzDate!.slice(0, 32)}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      )
    if (parsed.amzDate!.slice(0, 8) !== date)
      throw new InvalidSignatureException(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date.slice(0, 16)}' != '${parsed.amzDate!.slice(0, 8)}', from '${parsed.amzDate}'.`,
      )
    if (service !== expectedService)
      throw new InvalidSignatureException(
        `Credential should be scoped to correct service: '${expectedService}'. `,
      )

    const signedHeaders = parsed.signedHeaders.split(';')
    if (!signedHeaders.includes('host'))
      throw new InvalidSignatureException(
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
      )

    if (parsed.presigned) {
      const expiresAt = signedAt + parsed.expires! * 1000
      if (now > expiresAt)
        throw new InvalidSignatureException(
          `Signature expired: ${formatAmzDate(expiresAt)} is now earlier than ${formatAmzDate(now)}.`,
        )
      if (signedAt - now > MAX_SKEW_MS)
        throw new InvalidSignatureException(
          `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
        )
    } else if (now - signedAt > MAX_SKEW_MS) {
      throw new InvalidSignatureException(
        `Signature expired: ${parsed.amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`,
      )
    } else if (signedAt - now > MAX_SKEW_MS) {
      throw new InvalidSignatureException(
        `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
      )
    }

    const key = await this.#lookup(accessKeyId)
    if (!key)
      throw new UnrecognizedClientException(
        'The security token included in the request is invalid.',
      )
    if ((key.sessionToken ?? undefined) !== parsed.securityToken)
      throw new UnrecognizedClientException(
        'The security token included in the request is invalid.',
      )

    const canonicalRequest = [
      req.method,
      canonicalUri(path),
      canonicalQuery(queryPairs, parsed.presigned ? 'X-Amz-Signature' : undefined),
      canonicalHeaders(headers, signedHeaders),
      parsed.signedHeaders,
      sha256Hex(req.body),
    ].join('\n')
    const sts = stringToSign(
      parsed.amzDate!,
      `${date}/${region}/${service}/aws4_request`,
      canonicalRequest,
    )
    const expected = createHmac(
      'sha256',
      this.#signingKey(key.secret, accessKeyId, date, region, service),
    )
      .update(sts)
      .digest()
    const given = Buffer.from(parsed.signature, 'hex')
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new InvalidSignatureException(
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      )
    return { accessKeyId, region, service, record: key.record }
  }
}
