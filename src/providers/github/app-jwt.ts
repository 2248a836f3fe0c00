/**
 * @module providers/github/app-jwt
 * The GitHub App's own credential: a JSON Web Token signed RS256 with the app's private key
 * (docs.github.com, "Generating a JSON Web Token (JWT) for a GitHub App"; providers.md §2). Claims:
 * `iat` 60 s in the past (clock drift), `exp` at most 10 minutes after now (GitHub refuses more),
 * `iss` the app's client id (recommended) or its numeric app id. Sent as `Authorization: Bearer`.
 *
 * Hand-written on `node:crypto` rather than `universal-github-app-jwt` (the library
 * `@octokit/auth-app` uses): Node signs RS256 natively and reads both PEM forms GitHub has issued
 * (PKCS#1 `BEGIN RSA PRIVATE KEY` and PKCS#8), which is what that library exists to smooth over
 * in runtimes with WebCrypto only; the whole job is a dozen lines, so no dependency.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto'
import { ProviderRequestFailed } from '../errors.js'

/** Longest lifetime GitHub accepts is 10 minutes; stay a little under it for clock skew. */
export const APP_JWT_TTL_S = 9 * 60
/** How far `iat` is backdated, as GitHub recommends. */
export const APP_JWT_BACKDATE_S = 60

export interface AppJwtInput {
  /** The app's client id (`Iv23…`) or numeric app id, as a string: becomes `iss`. */
  issuer: string
  /** The app's private key, PEM (PKCS#1 or PKCS#8), or an already parsed key. */
  privateKey: string | KeyObject
  /** For tests: the current time in ms. */
  now?: number
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url')

/** Parses a PEM once; a key that is not an RSA private key is refused (message without the key). */
export function parseAppKey(pem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    throw new ProviderRequestFailed('The GitHub App private key is not a PEM private key')
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new ProviderRequestFailed('The GitHub App private key is not an RSA key')
  return key
}

/** A signed app JWT and the epoch ms at which it stops working. */
export function createAppJwt(o: AppJwtInput): { token: string; expiresAt: number } {
  if (!o.issuer) throw new ProviderRequestFailed('The GitHub App id or client id is not configured')
  const key = typeof o.privateKey === 'string' ? parseAppKey(o.privateKey) : o.privateKey
  const now = Math.floor((o.now ?? Date.now()) / 1000)
  // A numeric app id goes out as a number (as GitHub's examples), a client id as a string.
  const iss = /^\d+$/.test(o.issuer) ? Number(o.issuer) : o.issuer
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))
  const exp = now + APP_JWT_TTL_S
  const claims = b64url(JSON.stringify({ iat: now - APP_JWT_BACKDATE_S, exp, iss }))
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key)
  return { token: `${header}.${claims}.${b64url(signature)}`, expiresAt: exp * 1000 }
}
