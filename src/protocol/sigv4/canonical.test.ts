import { describe, expect, it } from 'vitest'
import {
  canonicalQuery,
  canonicalUri,
  deriveSigningKey,
  parseQuery,
  uriEncode,
} from './canonical.js'

describe('SigV4 canonical forms', () => {
  it('encodes per RFC 3986', () => {
    expect(uriEncode("a b!'()*~-_.")).toBe('a%20b%21%27%28%29%2A~-_.')
  })
  it('sorts query parameters by encoded key then value', () => {
    expect(canonicalQuery(parseQuery('b=2&a=3&a=1&c'))).toBe('a=1&a=3&b=2&c=')
    expect(canonicalQuery(parseQuery('X-Amz-Signature=abc&z=1'), 'X-Amz-Signature')).toBe('z=1')
  })
  it('normalises and double-encodes the path for non-S3 services', () => {
    expect(canonicalUri('/')).toBe('/')
    expect(canonicalUri('/a/./b/../c')).toBe('/a/c')
    expect(canonicalUri('/a b')).toBe('/a%2520b')
  })
  it('derives the signing key of the AWS documentation example', () => {
    // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
    const key = deriveSigningKey(
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '20120215',
      'us-east-1',
      'iam',
    )
    expect(key.toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    )
  })
})
