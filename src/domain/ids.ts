/**
 * @module domain/ids
 * Identifiers that clients see: connection UUIDs, host ids, request ids and access keys.
 */
import { randomBytes, randomUUID } from 'node:crypto'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function randomChars(n: number, alphabet: string): string {
  const bytes = randomBytes(n)
  let out = ''
  for (const b of bytes) out += alphabet[b % alphabet.length]
  return out
}

export const newConnectionId = (): string => randomUUID()

/** `<name>-<8 hex>`, as the AWS docs show host ARNs (`host/My-Host-28aef605`). */
export function newHostId(name: string): string {
  const slug =
    name
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'host'
  return `${slug}-${randomBytes(4).toString('hex')}`
}

export const newRequestId = (): string => randomUUID()

/** Access key ids look like AWS's (20 upper-case characters) with Junction's own prefix. */
export const newAccessKeyId = (): string => 'JKIA' + randomChars(16, BASE32)

export const newSecretAccessKey = (): string =>
  randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y')
