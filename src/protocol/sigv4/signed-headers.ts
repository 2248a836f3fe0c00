/**
 * @module protocol/sigv4/signed-headers
 * Which headers a signature must cover: every header that selects or shapes the request, as AWS
 * requires — `Content-Type` (it selects the protocol) and every `x-amz-*` header sent
 * (`X-Amz-Target` names the operation), besides `Host`. Only `x-amz-content-sha256` may go
 * unsigned (Junction hashes the body itself), as S3 allows.
 */
import { parseQuery } from './canonical.js'

/** A header sent but left out of SignedHeaders that must be signed, or undefined. */
export function unsignedRequiredHeader(
  rawHeaders: string[],
  signed: readonly string[],
): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!
    // Hot path: most names are ruled out by their first characters, and a name sent in lower
    // case that is signed needs no lower-casing.
    const c = raw.charCodeAt(0) | 0x20
    if (c === 0x63) {
      if (raw.length !== 12) continue
    } else if (c !== 0x78 || raw.length < 7 || raw.charCodeAt(5) !== 0x2d) continue
    if (signed.includes(raw)) continue
    const name = raw.toLowerCase()
    if (name === 'content-type' || (name.startsWith('x-amz-') && name !== 'x-amz-content-sha256'))
      if (!signed.includes(name)) return name
  }
  return undefined
}

/**
 * A header that selects or shapes the request (`Host`, `Content-Type`, `Authorization`, any
 * `x-amz-*`) sent more than once, or undefined. Node keeps only the first `Host`, `Content-Type`
 * and `Authorization`, so a second, unsigned copy would reach a proxy or a log that reads the last
 * one while the signature covers only the first: such a request is refused whole.
 */
export function repeatedRequiredHeader(
  rawHeaders: string[],
  headers: Record<string, unknown>,
): string | undefined {
  // Fast path: every name once (Node folds repeats into one key).
  if (rawHeaders.length / 2 === Object.keys(headers).length) return undefined
  const seen = new Set<string>()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (
      name !== 'host' &&
      name !== 'content-type' &&
      name !== 'authorization' &&
      !name.startsWith('x-amz-')
    )
      continue
    if (seen.has(name)) return name
    seen.add(name)
  }
  return undefined
}

/**
 * `X-Amz-Target` from a raw query string, where a presigner may have hoisted it (the Smithy
 * signer moves every `x-amz-*` header into the query string it signs), or undefined.
 */
export function targetFromQuery(rawQuery: string): string | undefined {
  if (!/target/i.test(rawQuery)) return undefined
  for (const [k, v] of parseQuery(rawQuery)) if (k.toLowerCase() === 'x-amz-target') return v
  return undefined
}

/** How AWS spells a header in its "must be a 'SignedHeader'" message. */
const SPELLING: Record<string, string> = {
  host: 'Host',
  authorization: 'Authorization',
  'content-type': 'Content-Type',
  'x-amz-target': 'X-Amz-Target',
  'x-amz-date': 'X-Amz-Date',
  'x-amz-security-token': 'X-Amz-Security-Token',
}

/** AWS's message for a header that must be signed and is not. */
export const mustBeSignedMessage = (name: string): string =>
  `'${SPELLING[name] ?? name.slice(0, 64)}' must be a 'SignedHeader' in the AWS Authorization.`

/** The message for a header sent more than once where it may be sent once. */
export const repeatedMessage = (name: string): string =>
  `The request carries the header '${SPELLING[name] ?? name.slice(0, 64)}' more than once; a signed request may carry it only once.`
