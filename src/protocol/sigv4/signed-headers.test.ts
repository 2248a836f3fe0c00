import { describe, expect, it } from 'vitest'
import { mustBeSignedMessage, targetFromQuery, unsignedRequiredHeader } from './signed-headers.js'

describe('unsignedRequiredHeader', () => {
  const raw = (...names: string[]) => names.flatMap((n) => [n, 'v'])

  it('names Content-Type or an x-amz-* header sent but not signed', () => {
    const signed = ['host', 'x-amz-date']
    expect(unsignedRequiredHeader(raw('Host', 'X-Amz-Date', 'Content-Type'), signed)).toBe(
      'content-type',
    )
    expect(unsignedRequiredHeader(raw('Host', 'X-Amz-Target'), signed)).toBe('x-amz-target')
    expect(unsignedRequiredHeader(raw('x-amz-meta-a'), signed)).toBe('x-amz-meta-a')
    expect(unsignedRequiredHeader(raw('X-AMZ-SECURITY-TOKEN'), signed)).toBe('x-amz-security-token')
  })

  it('lets signed ones, x-amz-content-sha256, x-amzn-* and other headers through', () => {
    const signed = ['content-type', 'host', 'x-amz-date', 'x-amz-target']
    const sent = raw(
      'Host',
      'Content-Type',
      'X-Amz-Target',
      'X-Amz-Date',
      'X-Amz-Content-Sha256',
      'X-Amzn-Trace-Id',
      'Content-Length',
      'User-Agent',
      'Connection',
      'Cookie',
    )
    expect(unsignedRequiredHeader(sent, signed)).toBeUndefined()
  })
})

describe('targetFromQuery', () => {
  it('finds x-amz-target in any case and encoding, else undefined', () => {
    expect(targetFromQuery('X-Amz-Algorithm=a&x-amz-target=S.Get')).toBe('S.Get')
    expect(targetFromQuery('X-Amz-Target=S.Get%20x')).toBe('S.Get x')
    expect(targetFromQuery('x%2Damz%2Dtarget=S.Get')).toBe('S.Get')
    expect(targetFromQuery('X-Amz-Algorithm=a&target=b')).toBeUndefined()
    expect(targetFromQuery('')).toBeUndefined()
  })
})

describe('mustBeSignedMessage', () => {
  it("spells the header as AWS does in its 'SignedHeader' message", () => {
    expect(mustBeSignedMessage('x-amz-target')).toBe(
      "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
    )
    expect(mustBeSignedMessage('x-amz-meta-a')).toBe(
      "'x-amz-meta-a' must be a 'SignedHeader' in the AWS Authorization.",
    )
  })
})
