import { createVerify, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ProviderRequestFailed } from '../errors.js'
import { createAppJwt, parseAppKey } from './app-jwt.js'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

function decode(token: string) {
  const [h, c, s] = token.split('.') as [string, string, string]
  const valid = createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, s, 'base64url')
  return {
    valid,
    header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>,
  }
}

describe('GitHub App JWT', () => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0)

  it.each([
    ['PKCS#1 (as GitHub issues keys)', pkcs1],
    ['PKCS#8', pkcs8],
  ])('is RS256, verifiable with the public key, from a %s PEM', (_, pem) => {
    const { token, expiresAt } = createAppJwt({ issuer: '123456', privateKey: pem, now })
    const t = decode(token)
    expect(t.valid).toBe(true)
    expect(t.header).toEqual({ alg: 'RS256', typ: 'JWT' })
    expect(t.claims['iat']).toBe(now / 1000 - 60)
    const exp = t.claims['exp'] as number
    expect(exp).toBeGreaterThan(now / 1000)
    expect(exp - now / 1000).toBeLessThanOrEqual(600)
    expect(expiresAt).toBe(exp * 1000)
    expect(t.claims['iss']).toBe(123456)
  })

  it('puts a client id in iss as a string', () => {
    const t = decode(createAppJwt({ issuer: 'Iv23liAbCdEf', privateKey: pkcs1, now }).token)
    expect(t.claims['iss']).toBe('Iv23liAbCdEf')
  })

  it('is refused by another key pair', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    const { token } = createAppJwt({ issuer: '1', privateKey: other, now })
    expect(decode(token).valid).toBe(false)
  })

  it('refuses keys that are not RSA private keys, without echoing them', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    expect(() => parseAppKey(ec)).toThrow(ProviderRequestFailed)
    const garbage = '-----BEGIN RSA PRIVATE KEY-----\nsecretstuff\n-----END RSA PRIVATE KEY-----'
    const err = (() => {
      try {
        parseAppKey(garbage)
      } catch (e) {
        return e as Error
      }
    })()
    expect(err).toBeInstanceOf(ProviderRequestFailed)
    expect(err!.message).not.toContain('secretstuff')
    expect(() => createAppJwt({ issuer: '', privateKey: pkcs1 })).toThrow(/not configured/)
  })
})
