import { describe, expect, it } from 'vitest'
import { codeconnectionsValidation as table } from '../generated/validation-table.js'
import { validateInput } from './validate.js'

const run = (op: string, input: unknown) => {
  try {
    validateInput(table, op, input)
    return undefined
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message }
  }
}

describe('validateInput', () => {
  it('accepts valid input and ignores unknown members', () => {
    expect(
      run('CreateConnection', { ConnectionName: 'x', ProviderType: 'GitHub', Other: [1] }),
    ).toBeUndefined()
  })
  it('treats null members as absent', () => {
    expect(run('ListConnections', { MaxResults: null })).toBeUndefined()
    expect(run('GetConnection', { ConnectionArn: null })?.message).toBe(
      "1 validation error detected: Value null at 'connectionArn' failed to satisfy constraint: Member must not be null",
    )
  })
  it('reports type mismatches as SerializationException', () => {
    expect(run('ListConnections', { MaxResults: true })?.code).toBe('SerializationException')
    expect(run('ListConnections', { MaxResults: 2 ** 60 })?.code).toBe('SerializationException')
    expect(
      run('CreateHost', {
        Name: 'n',
        ProviderType: 'GitLabSelfManaged',
        ProviderEndpoint: 'https://x',
        VpcConfiguration: 'vpc',
      })?.code,
    ).toBe('SerializationException')
    expect(run('GetConnection', [])?.code).toBe('SerializationException')
  })
  it('anchors patterns as full matches', () => {
    // The unanchored pattern matches a prefix of this value; a full match is required.
    expect(
      run('GetHost', { HostArn: 'arn:aws:codestar-connections:us-east-1:000000000000:host/x' }),
    ).toBeUndefined()
    expect(
      run('GetHost', {
        HostArn: 'arn:aws:codestar-connections:us-east-1:000000000000:host/x\nmore',
      })?.code,
    ).toBe('ValidationException')
    expect(
      run('DeleteHost', { HostArn: 'xarn:aws:codestar-connections:us-east-1:000000000000:host/x' })
        ?.code,
    ).toBe('ValidationException')
  })
  it('truncates long values in messages', () => {
    const msg =
      run('CreateConnection', { ConnectionName: 'y'.repeat(5000), ProviderType: 'GitHub' })
        ?.message ?? ''
    expect(msg.length).toBeLessThan(400)
    expect(msg).toContain('...')
  })
  it('reports null list members', () => {
    expect(
      run('UntagResource', {
        ResourceArn: 'arn:aws:codeconnections:us-east-1:000000000000:connection/x',
        TagKeys: [null],
      })?.message,
    ).toMatch(
      /Value null at 'tagKeys\.1\.member' failed to satisfy constraint: Member must not be null/,
    )
  })
})
