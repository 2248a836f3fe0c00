/**
 * @module protocol/sigv4/verify
 * Verifies AWS Signature Version 4, in the Authorization header or in a presigned query string,
 * with the error codes and messages AWS answers with. Derived signing keys are cached per
 * (key, date, region, service): they change once a day.
 *
 * The signature must cover every header that selects or shapes the request (`signed-headers.ts`),
 * in the `Authorization` header and in presigned query strings alike. Wrong signatures of an
 * existing key are counted by an optional throttle, which answers them with a throttling error past
 * its limit; a right signature always passes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
  ExpiredTokenException,
} from '../../errors/common.js'
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  deriveSigningKey,
  parseQuery,
  sha256Hex,
  stringToSign,
} from './canonical.js'
import {
  mustBeSignedMessage,
  repeatedMessage,
  repeatedRequiredHeader,
  unsignedRequiredHeader,
} from './signed-headers.js'

export const ALGORITHM = 'AWS4-HMAC-SHA256'
/** AWS accepts requests signed up to 15 minutes before or after its clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000
const MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600

export interface SignedRequest {
  method: string
  /** Path and query as received (`IncomingMessage.url`). */
  url: string
  /** `IncomingMessage.headers` (lower-case names) for the single-valued auth headers. */
  headers: Record<string, string | string[] | undefined>
  /** `IncomingMessage.rawHeaders`, for the canonical form of repeated signed headers. */
  rawHeaders: string[]
  body: Buffer
}

const EMPTY_QUERY: ReadonlyMap<string, string> = new Map()

const single = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v

/** What the verifier needs to know about an access key. */
export interface KeyInfo<T> {
  secret: string
  record: T
  sessionToken?: string
  /** Temporary credentials stop working at this time (epoch ms). */
  expiresAt?: number
}

/** Resolves an access key; may answer synchronously (from a cache) to save a promise. */
export interface KeyLookup<T> {
  (accessKeyId: string): KeyInfo<T> | undefined | Promise<KeyInfo<T> | undefined>
}

/** Counts wrong signatures per access key and refuses a key that has too many. */
export interface SignatureThrottle {
  /** Counts a wrong signature; throws (an `AwsError`) when the key has had too many. */
  signatureFailed(accessKeyId: string): void
}

export interface VerifiedRequest<T> {
  accessKeyId: string
  region: string
  service: string
  record: T
}

/** What verification carries from parsing to the signature check. */
interface Scope {
  accessKeyId: string
  date: string
  region: string
  service: string
  path: string
  queryPairs: [string, string][]
  signedHeaders: string[]
  /** The verifier's time when the request arrived. */
  now: number
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

function parseAuthorizationHeader(value: string): Parsed {
  const space = value.indexOf(' ')
  const algorithm = space < 0 ? value : value.slice(0, space)
  if (algorithm !== ALGORITHM)
    throw new IncompleteSignatureException(
      `Unsupported AWS 'algorithm': '${algorithm.slice(0, 64)}'. Supported algorithm: ${ALGORITHM}`,
    )
  let credential = ''
  let signedHeaders = ''
  let signature = ''
  // `Credential=…, SignedHeaders=…, Signature=…` in any order; scanned without a Map or regex.
  let at = space + 1
  while (at > 0 && at < value.length) {
    const comma = value.indexOf(',', at)
    const end = comma < 0 ? value.length : comma
    const eq = value.indexOf('=', at)
    if (eq > 0 && eq < end) {
      const name = value.slice(at, eq).trim()
      const field = value.slice(eq + 1, end).trim()
      if (name === 'Credential') credential = field
      else if (name === 'SignedHeaders') signedHeaders = field
      else if (name === 'Signature') signature = field
    }
    at = comma < 0 ? -1 : comma + 1
  }
  if (!credential || !signature || !signedHeaders) {
    const missing: string[] = []
    if (!credential) missing.push("Authorization header requires 'Credential' parameter.")
    if (!signature) missing.push("Authorization header requires 'Signature' parameter.")
    if (!signedHeaders) missing.push("Authorization header requires 'SignedHeaders' parameter.")
    throw new IncompleteSignatureException(missing.join(' '))
  }
  return {
    credential,
    signedHeaders,
    signature,
    amzDate: undefined,
    securityToken: undefined,
    presigned: false,
  }
}

function parsePresigned(query: ReadonlyMap<string, string>): Parsed {
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
    securityToken: query.get('X-Amz-Security-Token'),
    presigned: true,
    expires,
  }
}

/** `20260102T030405Z` → epoch ms, or NaN. */
function parseAmzDate(s: string): number {
  if (s.length !== 16 || s[8] !== 'T' || s[15] !== 'Z') return NaN
  for (let i = 0; i < 15; i++)
    if (i !== 8 && (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57)) return NaN
  const n = (from: number, to: number) => Number(s.slice(from, to))
  return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(9, 11), n(11, 13), n(13, 15))
}

const formatAmzDate = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')

export class SigV4Verifier<T> {
  readonly #lookup: KeyLookup<T>
  readonly #keys = new Map<string, { secret: string; key: Buffer }>()
  readonly #throttle: SignatureThrottle | undefined

  /** The clock for signature dates, presigned URLs' expiry and temporary keys' expiry. */
  readonly #now: () => number

  constructor(lookup: KeyLookup<T>, throttle?: SignatureThrottle, now: () => number = Date.now) {
    this.#lookup = lookup
    this.#throttle = throttle
    this.#now = now
  }

  #signingKey(secret: string, accessKeyId: string, date: string, region: string, service: string) {
    const id = `${accessKeyId}/${date}/${region}/${service}`
    const hit = this.#keys.get(id)
    // The secret is compared too, so a rotated secret never meets a key derived from the old one.
    if (hit && hit.secret === secret) return hit.key
    if (this.#keys.size > 10_000) this.#keys.clear()
    const key = deriveSigningKey(secret, date, region, service)
    this.#keys.set(id, { secret, key })
    return key
  }

  /**
   * Verifies the request and returns who signed it. `expectedService` is the signing name of the
   * service the request is for: a signature scoped to another service is refused.
   */
  verify(
    req: SignedRequest,
    expectedService: string,
    now = this.#now(),
  ): VerifiedRequest<T> | Promise<VerifiedRequest<T>> {
    const q = req.url.indexOf('?')
    const path = q < 0 ? req.url : req.url.slice(0, q)
    const queryPairs = q < 0 ? [] : parseQuery(req.url.slice(q + 1))
    const query = queryPairs.length === 0 ? EMPTY_QUERY : new Map(queryPairs)
    const authorization = single(req.headers['authorization'])
    const hasQueryAuth = query.has('X-Amz-Algorithm') || query.has('X-Amz-Signature')

    if (!authorization && !hasQueryAuth)
      throw new MissingAuthenticationTokenException('Missing Authentication Token')
    if (authorization && hasQueryAuth)
      throw new IncompleteSignatureException(
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query parameter or the Authorization header should be specified',
      )

    let parsed: Parsed
    if (authorization) {
      parsed = parseAuthorizationHeader(authorization)
      const amzDate = single(req.headers['x-amz-date'])
      if (!amzDate)
        throw new IncompleteSignatureException(
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
      parsed.amzDate = amzDate
      parsed.securityToken = single(req.headers['x-amz-security-token'])
    } else {
      parsed = parsePresigned(query)
    }

    // `<key>/<date>/<region>/<service>/aws4_request`, split by hand (hot path).
    const credential = parsed.credential
    const s1 = credential.indexOf('/')
    const s2 = credential.indexOf('/', s1 + 1)
    const s3 = credential.indexOf('/', s2 + 1)
    const s4 = credential.indexOf('/', s3 + 1)
    if (
      s1 <= 0 ||
      s2 <= s1 + 1 ||
      s3 <= s2 + 1 ||
      s4 <= s3 + 1 ||
      s4 === credential.length - 1 ||
      credential.indexOf('/', s4 + 1) >= 0
    )
      throw new IncompleteSignatureException(
        `Credential should be scoped to a valid region, service and date: '${credential.slice(0, 128)}'.`,
      )
    const accessKeyId = credential.slice(0, s1)
    const date = credential.slice(s1 + 1, s2)
    const region = credential.slice(s2 + 1, s3)
    const service = credential.slice(s3 + 1, s4)
    const terminator = credential.slice(s4 + 1)
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
    const unsigned = unsignedRequiredHeader(req.rawHeaders, signedHeaders)
    if (unsigned !== undefined) throw new InvalidSignatureException(mustBeSignedMessage(unsigned))
    const repeated = repeatedRequiredHeader(req.rawHeaders, req.headers)
    if (repeated !== undefined) throw new InvalidSignatureException(repeatedMessage(repeated))

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

    const scope: Scope = {
      accessKeyId,
      date,
      region,
      service,
      path,
      queryPairs,
      signedHeaders,
      now,
    }
    // A cached key answers synchronously: no promise on the hot path.
    const found = this.#lookup(accessKeyId)
    return found instanceof Promise
      ? found.then((key) => this.#check(req, parsed, scope, key))
      : this.#check(req, parsed, scope, found)
  }

  #check(
    req: SignedRequest,
    parsed: Parsed,
    { accessKeyId, date, region, service, path, queryPairs, signedHeaders, now }: Scope,
    key: KeyInfo<T> | undefined,
  ): VerifiedRequest<T> {
    if (!key)
      throw new UnrecognizedClientException(
        'The security token included in the request is invalid.',
      )
    if ((key.sessionToken ?? undefined) !== parsed.securityToken)
      throw new UnrecognizedClientException(
        'The security token included in the request is invalid.',
      )
    if (key.expiresAt !== undefined && key.expiresAt <= now)
      throw new ExpiredTokenException('The security token included in the request is expired')

    const canonicalRequest =
      req.method +
      '\n' +
      canonicalUri(path) +
      '\n' +
      canonicalQuery(queryPairs, parsed.presigned ? 'X-Amz-Signature' : undefined) +
      '\n' +
      canonicalHeaders(req.headers, req.rawHeaders, signedHeaders) +
      '\n' +
      parsed.signedHeaders +
      '\n' +
      sha256Hex(req.body)
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
      .digest('hex')
    // Compared as the lowercase hex AWS sends, in constant time: a signature of another length,
    // in upper case or with any other character is a mismatch, as on AWS. (UTF-8 keeps a
    // non-ASCII character from passing for the ASCII byte it would be cut to.)
    const given = Buffer.from(parsed.signature, 'utf8')
    if (given.length !== 64 || !timingSafeEqual(given, Buffer.from(expected, 'latin1'))) {
      this.#throttle?.signatureFailed(accessKeyId)
      throw new InvalidSignatureException(
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      )
    }
    return { accessKeyId, region, service, record: key.record }
  }
}
