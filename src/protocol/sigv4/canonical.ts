/**
 * @module protocol/sigv4/canonical
 * The SigV4 canonical request and string to sign (AWS General Reference, "Create a signed AWS API
 * request"), computed from the request as received.
 */
import { createHash, createHmac } from 'node:crypto'

/** RFC 3986 encoding as SigV4 requires (unreserved characters stay, everything else %XX). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  )
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Parses a raw query string into decoded pairs, keeping repeated keys. */
export function parseQuery(raw: string): [string, string][] {
  if (!raw) return []
  return raw
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=')
      return eq < 0
        ? [decodeComponent(pair), '']
        : [decodeComponent(pair.slice(0, eq)), decodeComponent(pair.slice(eq + 1))]
    })
}

export function canonicalQuery(pairs: [string, string][], omit?: string): string {
  if (pairs.length === 0) return ''
  return pairs
    .filter(([k]) => k !== omit)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/** Non-S3 services normalise the path and encode each segment twice (the first time by the client). */
export function canonicalUri(path: string): string {
  if (path === '/') return path
  const segments: string[] = []
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') segments.pop()
    else segments.push(seg)
  }
  const normalised =
    '/' + segments.join('/') + (path.endsWith('/') && segments.length > 0 ? '/' : '')
  return normalised
    .split('/')
    .map((s) => uriEncode(uriEncode(decodeComponent(s))))
    .join('/')
}

/**
 * Values of each header name (lower-case) in arrival order, from `IncomingMessage.rawHeaders`;
 * only the names in `wanted` when it is given.
 */
export function headerValues(
  rawHeaders: string[],
  wanted?: readonly string[],
): Map<string, string[]> {
  const map = new Map<string, string[]>()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (wanted && !wanted.includes(name)) continue
    const list = map.get(name)
    if (list) list.push(rawHeaders[i + 1]!)
    else map.set(name, [rawHeaders[i + 1]!])
  }
  return map
}

/** Trims and collapses runs of whitespace, without a regex for the common case. */
function trimAll(v: string): string {
  const t = v.trim()
  return t.includes('  ') || t.includes('\t') ? t.replace(/\s+/g, ' ') : t
}

/**
 * The canonical headers block. Values come from `IncomingMessage.headers`, except for a header
 * that may have been sent more than once (its joined value holds a comma): those are read from
 * `rawHeaders` and joined with `,` as SigV4 requires.
 */
export function canonicalHeaders(
  headers: Record<string, string | string[] | undefined>,
  rawHeaders: string[],
  signed: readonly string[],
): string {
  let out = ''
  for (const name of signed) {
    const value = headers[name]
    if (typeof value === 'string' && !value.includes(',')) out += `${name}:${trimAll(value)}\n`
    else {
      const values = headerValues(rawHeaders, [name]).get(name) ?? []
      out += `${name}:${values.map(trimAll).join(',')}\n`
    }
  }
  return out
}

export const sha256Hex = (data: string | Buffer): string =>
  createHash('sha256').update(data).digest('hex')

export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`
}

export function deriveSigningKey(
  secret: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = createHmac('sha256', 'AWS4' + secret)
    .update(date)
    .digest()
  const kRegion = createHmac('sha256', kDate).update(region).digest()
  const kService = createHmac('sha256', kRegion).update(service).digest()
  return createHmac('sha256', kService).update('aws4_request').digest()
}
