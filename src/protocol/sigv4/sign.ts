/**
 * @module protocol/sigv4/sign
 * Signs a request with SigV4 (Authorization header), for Junction's own CLI commands that call a
 * running server. The inverse of `verify.ts`, from the same canonical forms.
 */
import { createHmac } from 'node:crypto'
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  deriveSigningKey,
  parseQuery,
  sha256Hex,
  stringToSign,
} from './canonical.js'

export interface SigningCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Returns the headers to send (host included) for a POST of `body` to `url`. */
export function signRequest(
  url: URL,
  body: string,
  headers: Record<string, string>,
  creds: SigningCredentials,
  service: string,
  region: string,
  now = new Date(),
): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const date = amzDate.slice(0, 8)
  const all: Record<string, string> = { ...headers, host: url.host, 'x-amz-date': amzDate }
  if (creds.sessionToken) all['x-amz-security-token'] = creds.sessionToken
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]))
  const signed = Object.keys(lower).sort()
  const raw = Object.entries(lower).flat()
  const canonical = [
    'POST',
    canonicalUri(url.pathname || '/'),
    canonicalQuery(parseQuery(url.search.slice(1))),
    canonicalHeaders(lower, raw, signed),
    signed.join(';'),
    sha256Hex(Buffer.from(body)),
  ].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const signature = createHmac(
    'sha256',
    deriveSigningKey(creds.secretAccessKey, date, region, service),
  )
    .update(stringToSign(amzDate, scope, canonical))
    .digest('hex')
  return {
    ...lower,
    authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
  }
}
