import { describe, expect, it } from 'vitest'
import { MalformedPolicyError, parsePolicy } from './document.js'

const doc = (statement: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statement, ...extra })
const ok = { Effect: 'Allow', Action: 'codestar-connections:*', Resource: '*' }

describe('parsePolicy', () => {
  it('accepts a single statement object or a list, and keeps Sid and order', () => {
    expect(parsePolicy(doc(ok)).statements).toHaveLength(1)
    const p = parsePolicy(
      doc([
        { ...ok, Sid: 'One' },
        { ...ok, Effect: 'Deny' },
      ]),
    )
    expect(p.statements.map((s) => [s.sid, s.effect, s.index])).toEqual([
      ['One', 'Allow', 0],
      [undefined, 'Deny', 1],
    ])
  })

  const malformed: [string, string, RegExp][] = [
    ['not JSON', '{"Version": ', /not valid JSON/],
    ['a list at the top', '[]', /JSON object/],
    ['a bad version', doc(ok, { Version: '2020-01-01' }), /valid version/],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), /Missing required field Statement/],
    ['an empty Statement list', doc([]), /must not be empty/],
    ['no Effect', doc({ Action: '*', Resource: '*' }), /Missing required field Effect/],
    ['a bad Effect', doc({ ...ok, Effect: 'Maybe' }), /Invalid effect/],
    ['no Action', doc({ Effect: 'Allow', Resource: '*' }), /Missing required field Action/],
    ['Action and NotAction', doc({ ...ok, NotAction: 's3:*' }), /both Action and NotAction/],
    ['Resource and NotResource', doc({ ...ok, NotResource: '*' }), /both Resource and NotResource/],
    [
      'no Resource in an identity policy',
      doc({ Effect: 'Allow', Action: '*' }),
      /must contain resources/,
    ],
    [
      'a Principal in an identity policy',
      doc({ ...ok, Principal: '*' }),
      /should not specify a principal/,
    ],
    [
      'an action without a service',
      doc({ ...ok, Action: 'GetConnection' }),
      /prefaced by a service/,
    ],
    ['a resource that is not an ARN', doc({ ...ok, Resource: 'connection/abc' }), /ARN format/],
    [
      'an unknown condition operator',
      doc({ ...ok, Condition: { StringEqualz: { 'aws:username': 'a' } } }),
      /Invalid condition operator/,
    ],
    [
      'IfExists on Null',
      doc({ ...ok, Condition: { NullIfExists: { 'aws:username': 'true' } } }),
      /Invalid condition operator/,
    ],
    [
      'a bad set operator',
      doc({ ...ok, Condition: { 'ForSomeValues:StringEquals': { k: 'a' } } }),
      /Invalid condition operator/,
    ],
    [
      'a condition value that is an object',
      doc({ ...ok, Condition: { StringEquals: { k: { a: 1 } } } }),
      /string or a list/,
    ],
    ['an unknown statement field', doc({ ...ok, Effects: 'Allow' }), /unknown field/],
    ['an unknown top-level field', doc(ok, { Statements: [] }), /unknown field/],
    [
      'variables with the 2008 version',
      JSON.stringify({
        Version: '2008-10-17',
        Statement: { ...ok, Resource: 'arn:aws:s3:::${aws:username}' },
      }),
      /2012-10-17/,
    ],
    ['a bad Sid', doc({ ...ok, Sid: 'no-dashes!' }), /Sid/],
    ['an empty Action list', doc({ ...ok, Action: [] }), /must not be empty/],
  ]
  for (const [name, text, message] of malformed)
    it(`refuses ${name}`, () => {
      expect(() => parsePolicy(text)).toThrow(MalformedPolicyError)
      expect(() => parsePolicy(text)).toThrow(message)
    })

  it('parses trust policies: Principal required, Resource prohibited', () => {
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111122223333:root' },
        Action: 'sts:AssumeRole',
      },
    })
    expect(parsePolicy(trust, 'trust').statements[0]?.principal).toEqual({
      AWS: ['arn:aws:iam::111122223333:root'],
    })
    expect(() => parsePolicy(doc({ Effect: 'Allow', Action: 'sts:AssumeRole' }), 'trust')).toThrow(
      /Principal/,
    )
    expect(() => parsePolicy(doc({ ...ok, Principal: '*' }), 'trust')).toThrow(
      /prohibited field Resource/,
    )
  })
})
