/**
 * The explaining path of `evaluate`: the trace that AccessDeniedException messages,
 * SimulatePrincipalPolicy and `junction iam explain` show, statement by statement, with its
 * reasons in words, and the statements that decided.
 */
import { describe, expect, it } from 'vitest'
import { RequestContext } from './context.js'
import { parsePolicy } from './document.js'
import { evaluate, type NamedPolicy } from './evaluate.js'

const A = '111122223333'
const CONN = `arn:aws:codestar-connections:us-east-1:${A}:connection/c1`
const GET = 'codestar-connections:GetConnection'
const DELETE = 'codestar-connections:DeleteConnection'

const policy = (name: string, ...Statement: object[]): NamedPolicy => ({
  name: `inline policy ${name}`,
  id: name,
  document: parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement })),
})

describe('evaluate with explain', () => {
  const p1 = policy(
    'one',
    { Sid: 'Read', Effect: 'Allow', Action: GET, Resource: CONN },
    {
      Effect: 'Deny',
      NotAction: 'codestar-connections:Get*',
      NotResource: `arn:aws:codestar-connections:us-east-1:${A}:connection/keep`,
      Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
    },
  )
  const p2 = policy('two', {
    Sid: 'Tagged',
    Effect: 'Allow',
    Action: '*',
    Resource: '*',
    Condition: {
      StringEquals: { 'aws:ResourceTag/team': 'a' },
      Bool: { 'aws:SecureTransport': 'false' },
    },
  })
  const ctx = new RequestContext({
    'aws:RequestedRegion': 'us-east-1',
    'aws:SecureTransport': 'false',
  })

  it('traces every statement with its reasons, and names the allowing statements', () => {
    const e = evaluate([p1, p2], { action: GET, resource: CONN, context: ctx }, true)
    expect(e.decision).toBe('allowed')
    expect(e.trace).toEqual([
      {
        policy: 'inline policy one',
        policyId: 'one',
        sid: 'Read',
        index: 0,
        effect: 'Allow',
        matched: true,
        reasons: [`Action ["${GET}"] covers ${GET}`, `Resource ["${CONN}"] covers ${CONN}`],
      },
      {
        policy: 'inline policy one',
        policyId: 'one',
        index: 1,
        effect: 'Deny',
        matched: false,
        reasons: [
          `NotAction ["codestar-connections:Get*"] does not cover ${GET}`,
          `NotResource ["arn:aws:codestar-connections:us-east-1:${A}:connection/keep"] covers ${CONN}`,
          'condition holds: StringEquals aws:RequestedRegion: request has ["us-east-1"], policy wants ["us-east-1"]',
        ],
      },
      {
        policy: 'inline policy two',
        policyId: 'two',
        sid: 'Tagged',
        index: 0,
        effect: 'Allow',
        matched: false,
        reasons: [
          `Action ["*"] covers ${GET}`,
          `Resource ["*"] covers ${CONN}`,
          'condition fails: StringEquals aws:ResourceTag/team: request has absent, policy wants ["a"] (the key is absent from the request)',
          'condition holds: Bool aws:SecureTransport: request has ["false"], policy wants ["false"]',
        ],
      },
    ])
    expect('sid' in e.trace[1]!).toBe(false)
    expect(e.deciding).toEqual([e.trace[0]])
  })

  it('names the matching Deny as what decided, over any Allow', () => {
    const e = evaluate([p1, p2], { action: DELETE, resource: CONN, context: ctx }, true)
    expect(e.decision).toBe('explicitDeny')
    expect(e.trace.map((t) => t.matched)).toEqual([false, true, false])
    expect(e.trace[0]!.reasons).toEqual([
      `Action ["${GET}"] does not cover ${DELETE}`,
      `Resource ["${CONN}"] covers ${CONN}`,
    ])
    expect(e.trace[1]!.reasons.slice(0, 2)).toEqual([
      `NotAction ["codestar-connections:Get*"] covers ${DELETE}`,
      `NotResource ["arn:aws:codestar-connections:us-east-1:${A}:connection/keep"] covers ${CONN}`,
    ])
    expect(e.deciding).toEqual([e.trace[1]])
    // The same question without explain: the decision only.
    expect(evaluate([p1, p2], { action: DELETE, resource: CONN, context: ctx })).toEqual({
      decision: 'explicitDeny',
      deciding: [],
      trace: [],
    })
  })

  it('explains an implicit deny: no statement decided', () => {
    const other = `arn:aws:codestar-connections:us-east-1:${A}:connection/keep`
    const e = evaluate([p1], { action: DELETE, resource: other, context: ctx }, true)
    expect(e.decision).toBe('implicitDeny')
    expect(e.deciding).toEqual([])
    expect(e.trace[1]!.reasons[1]).toBe(`NotResource ["${other}"] does not cover ${other}`)
    expect(e.trace[0]!.reasons[1]).toBe(`Resource ["${CONN}"] does not cover ${other}`)
    expect(evaluate([p1], { action: DELETE, resource: other, context: ctx })).toEqual({
      decision: 'implicitDeny',
      deciding: [],
      trace: [],
    })
  })

  it('lists every allowing statement, and none of the unmatched ones', () => {
    const both = policy(
      'both',
      { Sid: 'A', Effect: 'Allow', Action: GET, Resource: '*' },
      { Sid: 'B', Effect: 'Allow', Action: 'codestar-connections:*', Resource: CONN },
      { Sid: 'C', Effect: 'Allow', Action: DELETE, Resource: CONN },
    )
    const e = evaluate([both], { action: GET, resource: CONN, context: ctx }, true)
    expect(e.deciding.map((t) => t.sid)).toEqual(['A', 'B'])
    // A statement without Resource (trust policies) has no resource reason.
    const trust: NamedPolicy = {
      name: 'trust',
      id: 'trust',
      document: parsePolicy(
        JSON.stringify({
          Version: '2012-10-17',
          Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' },
        }),
        'trust',
      ),
    }
    const t = evaluate([trust], { action: 'sts:AssumeRole', resource: CONN, context: ctx }, true)
    expect(t.trace[0]!.reasons).toEqual(['Action ["sts:AssumeRole"] covers sts:AssumeRole'])
    expect(t.decision).toBe('allowed')
  })
})
