/**
 * The evaluator's table: each row is a policy, a request and the expected decision. Rows cover
 * every condition operator (and its IfExists form), the set operators on multivalued keys,
 * wildcards, NotAction/NotResource, policy variables, explicit deny and absent keys. A second
 * table combines policy types (identity, session, a role's trust policy, both accounts).
 */
import { describe, expect, it } from 'vitest'
import { RequestContext } from './context.js'
import { parsePolicy } from './document.js'
import { combine, type DecidedBy } from './combine.js'
import { evaluate, type Decision } from './evaluate.js'
import { evaluateResourcePolicy, type Caller } from './resource-policy.js'

const ARN =
  'arn:aws:codestar-connections:us-east-1:111122223333:connection/0f9b1c2d-0000-4000-8000-000000000001'
const NEW_ARN =
  'arn:aws:codeconnections:us-east-1:111122223333:connection/0f9b1c2d-0000-4000-8000-000000000002'

interface Row {
  name: string
  statements: unknown[]
  action?: string
  resource?: string
  context?: Record<string, string | string[]>
  expect: Decision
}

const allow = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Action: '*',
  Resource: '*',
  ...extra,
})
const deny = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Deny',
  Action: '*',
  Resource: '*',
  ...extra,
})

/** One Allow statement guarded by one condition clause. */
function cond(
  operator: string,
  key: string,
  values: unknown,
  context: Record<string, string | string[]>,
  expected: boolean,
  note = '',
): Row {
  return {
    name: `${operator} ${key} ${JSON.stringify(values)} with ${JSON.stringify(context)}${note ? ` (${note})` : ''}`,
    statements: [allow({ Condition: { [operator]: { [key]: values } } })],
    context,
    expect: expected ? 'allowed' : 'implicitDeny',
  }
}

const rows: Row[] = [
  // --- Effects and the decision order
  {
    name: 'no statement matches: implicit deny',
    statements: [allow({ Action: 's3:*' })],
    expect: 'implicitDeny',
  },
  { name: 'an allow on * allows', statements: [allow()], expect: 'allowed' },
  { name: 'explicit deny beats allow', statements: [allow(), deny()], expect: 'explicitDeny' },
  {
    name: 'deny listed first still wins',
    statements: [deny({ Action: 'codestar-connections:Get*' }), allow()],
    expect: 'explicitDeny',
  },
  {
    name: 'a deny that does not match leaves the allow',
    statements: [allow(), deny({ Action: 'codestar-connections:Delete*' })],
    expect: 'allowed',
  },
  { name: 'deny alone is explicit deny', statements: [deny()], expect: 'explicitDeny' },
  {
    name: 'deny on another resource does not apply',
    statements: [allow(), deny({ Resource: NEW_ARN })],
    expect: 'allowed',
  },
  {
    name: 'deny with a failing condition does not apply',
    statements: [allow(), deny({ Condition: { StringEquals: { 'aws:username': 'bob' } } })],
    context: { 'aws:username': 'alice' },
    expect: 'allowed',
  },
  {
    name: 'deny with a holding condition applies',
    statements: [allow(), deny({ Condition: { StringEquals: { 'aws:username': 'alice' } } })],
    context: { 'aws:username': 'alice' },
    expect: 'explicitDeny',
  },
  // --- Action matching
  {
    name: 'exact action',
    statements: [allow({ Action: 'codestar-connections:GetConnection' })],
    expect: 'allowed',
  },
  {
    name: 'action names are case-insensitive',
    statements: [allow({ Action: 'CODESTAR-CONNECTIONS:getconnection' })],
    expect: 'allowed',
  },
  {
    name: 'service wildcard',
    statements: [allow({ Action: 'codestar-connections:*' })],
    expect: 'allowed',
  },
  {
    name: 'prefix wildcard',
    statements: [allow({ Action: 'codestar-connections:Get*' })],
    expect: 'allowed',
  },
  {
    name: 'prefix wildcard that does not match',
    statements: [allow({ Action: 'codestar-connections:List*' })],
    expect: 'implicitDeny',
  },
  {
    name: '? matches one character',
    statements: [allow({ Action: 'codestar-connections:GetConnectio?' })],
    expect: 'allowed',
  },
  {
    name: '? does not match two characters',
    statements: [allow({ Action: 'codestar-connections:GetConnecti?' })],
    expect: 'implicitDeny',
  },
  {
    name: 'the other prefix does not cover it',
    statements: [allow({ Action: 'codeconnections:*' })],
    expect: 'implicitDeny',
  },
  {
    name: 'action list: any entry',
    statements: [allow({ Action: ['s3:GetObject', 'codestar-connections:GetConnection'] })],
    expect: 'allowed',
  },
  {
    name: 'action list: none',
    statements: [allow({ Action: ['s3:GetObject', 'iam:GetUser'] })],
    expect: 'implicitDeny',
  },
  {
    name: 'mid wildcard',
    statements: [allow({ Action: 'codestar-connections:*Connection' })],
    expect: 'allowed',
  },
  {
    name: 'wildcard for any service and action',
    statements: [allow({ Action: '*' })],
    action: 'codeconnections:UseConnection',
    expect: 'allowed',
  },
  // --- NotAction
  {
    name: 'NotAction excluding another action allows',
    statements: [allow({ Action: undefined, NotAction: 'codestar-connections:Delete*' })],
    expect: 'allowed',
  },
  {
    name: 'NotAction excluding this action does not allow',
    statements: [allow({ Action: undefined, NotAction: 'codestar-connections:Get*' })],
    expect: 'implicitDeny',
  },
  {
    name: 'Deny with NotAction denies everything else',
    statements: [allow(), deny({ Action: undefined, NotAction: 'codestar-connections:List*' })],
    expect: 'explicitDeny',
  },
  {
    name: 'Deny with NotAction spares the listed action',
    statements: [
      allow(),
      deny({ Action: undefined, NotAction: 'codestar-connections:GetConnection' }),
    ],
    expect: 'allowed',
  },
  {
    name: 'NotAction list',
    statements: [
      allow({ Action: undefined, NotAction: ['iam:*', 'codestar-connections:GetConnection'] }),
    ],
    expect: 'implicitDeny',
  },
  // --- Resource matching
  { name: 'exact resource', statements: [allow({ Resource: ARN })], expect: 'allowed' },
  {
    name: 'resource wildcard in the id',
    statements: [
      allow({ Resource: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/*' }),
    ],
    expect: 'allowed',
  },
  {
    name: 'resource of another account',
    statements: [
      allow({ Resource: 'arn:aws:codestar-connections:us-east-1:999999999999:connection/*' }),
    ],
    expect: 'implicitDeny',
  },
  {
    name: 'resource of the other prefix',
    statements: [
      allow({ Resource: 'arn:aws:codeconnections:us-east-1:111122223333:connection/*' }),
    ],
    expect: 'implicitDeny',
  },
  {
    name: 'resource type host does not cover a connection',
    statements: [allow({ Resource: 'arn:aws:codestar-connections:*:*:host/*' })],
    expect: 'implicitDeny',
  },
  {
    name: 'resources are case-sensitive',
    statements: [allow({ Resource: ARN.replace('connection/', 'Connection/') })],
    expect: 'implicitDeny',
  },
  {
    name: 'resource wildcard in region and account',
    statements: [allow({ Resource: 'arn:aws:codestar-connections:*:*:connection/*' })],
    expect: 'allowed',
  },
  {
    name: 'resource ? wildcard',
    statements: [allow({ Resource: ARN.slice(0, -1) + '?' })],
    expect: 'allowed',
  },
  { name: 'resource list', statements: [allow({ Resource: [NEW_ARN, ARN] })], expect: 'allowed' },
  {
    name: 'resource * covers an account-level request',
    statements: [allow()],
    resource: '*',
    expect: 'allowed',
  },
  {
    name: 'a specific resource does not cover an account-level request',
    statements: [allow({ Resource: ARN })],
    resource: '*',
    expect: 'implicitDeny',
  },
  // --- NotResource
  {
    name: 'NotResource excluding another resource allows',
    statements: [allow({ Resource: undefined, NotResource: NEW_ARN })],
    expect: 'allowed',
  },
  {
    name: 'NotResource excluding this resource does not allow',
    statements: [allow({ Resource: undefined, NotResource: ARN })],
    expect: 'implicitDeny',
  },
  {
    name: 'NotResource with wildcard',
    statements: [allow({ Resource: undefined, NotResource: 'arn:aws:codestar-connections:*' })],
    expect: 'implicitDeny',
  },
  {
    name: 'Deny NotResource protects everything but one',
    statements: [allow(), deny({ Resource: undefined, NotResource: NEW_ARN })],
    expect: 'explicitDeny',
  },
  // --- Policy variables
  {
    name: '${aws:username} in a resource',
    statements: [
      allow({
        Resource:
          'arn:aws:codestar-connections:us-east-1:111122223333:connection/${aws:username}-*',
      }),
    ],
    resource: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/alice-1',
    context: { 'aws:username': 'alice' },
    expect: 'allowed',
  },
  {
    name: '${aws:username} for another user',
    statements: [
      allow({
        Resource:
          'arn:aws:codestar-connections:us-east-1:111122223333:connection/${aws:username}-*',
      }),
    ],
    resource: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/alice-1',
    context: { 'aws:username': 'bob' },
    expect: 'implicitDeny',
  },
  {
    name: 'a missing variable matches nothing',
    statements: [
      allow({ Resource: 'arn:aws:codestar-connections:*:*:connection/${aws:username}*' }),
    ],
    expect: 'implicitDeny',
  },
  {
    name: 'a variable with a default',
    statements: [
      allow({
        Resource: "arn:aws:codestar-connections:*:*:connection/${aws:username, 'shared'}-*",
      }),
    ],
    resource: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/shared-1',
    expect: 'allowed',
  },
  {
    name: 'a * inside a variable value stays literal',
    statements: [
      allow({ Resource: 'arn:aws:codestar-connections:*:*:connection/${aws:username}' }),
    ],
    resource: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/anything',
    context: { 'aws:username': '*' },
    expect: 'implicitDeny',
  },
  {
    name: '${*} is a literal star',
    statements: [allow({ Resource: 'arn:aws:codestar-connections:*:*:connection/a${*}b' })],
    resource: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/a*b',
    expect: 'allowed',
  },
  {
    name: '${*} does not act as a wildcard',
    statements: [allow({ Resource: 'arn:aws:codestar-connections:*:*:connection/a${*}b' })],
    resource: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/axxb',
    expect: 'implicitDeny',
  },
  cond(
    'StringEquals',
    'codestar-connections:OwnerId',
    '${aws:username}',
    { 'codestar-connections:OwnerId': 'alice', 'aws:username': 'alice' },
    true,
    'variable in a condition value',
  ),
  cond(
    'StringEquals',
    'codestar-connections:OwnerId',
    '${aws:username}',
    { 'codestar-connections:OwnerId': 'alice', 'aws:username': 'bob' },
    false,
    'variable in a condition value',
  ),
  cond(
    'StringLike',
    'codestar-connections:FullRepositoryId',
    '${aws:username}/*',
    { 'codestar-connections:FullRepositoryId': 'alice/app', 'aws:username': 'alice' },
    true,
  ),
  cond(
    'StringLike',
    'codestar-connections:FullRepositoryId',
    '${aws:username}/*',
    { 'codestar-connections:FullRepositoryId': 'bob/app', 'aws:username': 'alice' },
    false,
  ),
  // --- String operators
  cond(
    'StringEquals',
    'codestar-connections:ProviderType',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'Bitbucket' },
    true,
  ),
  cond(
    'StringEquals',
    'codestar-connections:ProviderType',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'GitHub' },
    false,
  ),
  cond(
    'StringEquals',
    'codestar-connections:ProviderType',
    'bitbucket',
    { 'codestar-connections:ProviderType': 'Bitbucket' },
    false,
    'values are case-sensitive',
  ),
  cond(
    'StringEquals',
    'CODESTAR-CONNECTIONS:providertype',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'Bitbucket' },
    true,
    'keys are case-insensitive',
  ),
  cond(
    'StringEquals',
    'codestar-connections:ProviderType',
    ['GitHub', 'Bitbucket'],
    { 'codestar-connections:ProviderType': 'Bitbucket' },
    true,
    'any of the values',
  ),
  cond('StringEquals', 'codestar-connections:ProviderType', 'Bitbucket', {}, false, 'absent key'),
  cond(
    'StringEqualsIfExists',
    'codestar-connections:ProviderType',
    'Bitbucket',
    {},
    true,
    'absent key',
  ),
  cond(
    'StringEqualsIfExists',
    'codestar-connections:ProviderType',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'GitHub' },
    false,
  ),
  cond(
    'StringEqualsIfExists',
    'codestar-connections:ProviderType',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'Bitbucket' },
    true,
  ),
  cond(
    'StringNotEquals',
    'codestar-connections:ProviderType',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'GitHub' },
    true,
  ),
  cond(
    'StringNotEquals',
    'codestar-connections:ProviderType',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'Bitbucket' },
    false,
  ),
  cond(
    'StringNotEquals',
    'codestar-connections:ProviderType',
    ['GitHub', 'Bitbucket'],
    { 'codestar-connections:ProviderType': 'GitHub' },
    false,
    'equal to one of them',
  ),
  cond(
    'StringNotEquals',
    'codestar-connections:ProviderType',
    'Bitbucket',
    {},
    true,
    'absent key passes a negated operator',
  ),
  cond('StringNotEqualsIfExists', 'codestar-connections:ProviderType', 'Bitbucket', {}, true),
  cond(
    'StringNotEqualsIfExists',
    'codestar-connections:ProviderType',
    'Bitbucket',
    { 'codestar-connections:ProviderType': 'Bitbucket' },
    false,
  ),
  cond('StringEqualsIgnoreCase', 'aws:username', 'ALICE', { 'aws:username': 'alice' }, true),
  cond('StringEqualsIgnoreCase', 'aws:username', 'ALICE', { 'aws:username': 'bob' }, false),
  cond('StringEqualsIgnoreCaseIfExists', 'aws:username', 'ALICE', {}, true),
  cond('StringNotEqualsIgnoreCase', 'aws:username', 'ALICE', { 'aws:username': 'alice' }, false),
  cond('StringNotEqualsIgnoreCase', 'aws:username', 'ALICE', { 'aws:username': 'bob' }, true),
  cond('StringNotEqualsIgnoreCaseIfExists', 'aws:username', 'ALICE', {}, true),
  cond(
    'StringLike',
    'codestar-connections:BranchName',
    'release/*',
    { 'codestar-connections:BranchName': 'release/1.2' },
    true,
  ),
  cond(
    'StringLike',
    'codestar-connections:BranchName',
    'release/*',
    { 'codestar-connections:BranchName': 'main' },
    false,
  ),
  cond(
    'StringLike',
    'codestar-connections:BranchName',
    'v?',
    { 'codestar-connections:BranchName': 'v1' },
    true,
  ),
  cond(
    'StringLike',
    'codestar-connections:BranchName',
    'v?',
    { 'codestar-connections:BranchName': 'v10' },
    false,
  ),
  cond(
    'StringLike',
    'codestar-connections:BranchName',
    '*',
    { 'codestar-connections:BranchName': '' },
    true,
    'star matches empty',
  ),
  cond(
    'StringLike',
    'codestar-connections:BranchName',
    'a.b',
    { 'codestar-connections:BranchName': 'axb' },
    false,
    'dots are literal',
  ),
  cond(
    'StringLike',
    'codestar-connections:BranchName',
    ['main', 'release/*'],
    { 'codestar-connections:BranchName': 'release/x' },
    true,
  ),
  cond('StringLike', 'codestar-connections:BranchName', 'release/*', {}, false),
  cond('StringLikeIfExists', 'codestar-connections:BranchName', 'release/*', {}, true),
  cond(
    'StringLikeIfExists',
    'codestar-connections:BranchName',
    'release/*',
    { 'codestar-connections:BranchName': 'dev' },
    false,
  ),
  cond(
    'StringNotLike',
    'codestar-connections:BranchName',
    'release/*',
    { 'codestar-connections:BranchName': 'main' },
    true,
  ),
  cond(
    'StringNotLike',
    'codestar-connections:BranchName',
    'release/*',
    { 'codestar-connections:BranchName': 'release/2' },
    false,
  ),
  cond('StringNotLike', 'codestar-connections:BranchName', 'release/*', {}, true),
  cond(
    'StringNotLikeIfExists',
    'codestar-connections:BranchName',
    'release/*',
    { 'codestar-connections:BranchName': 'release/2' },
    false,
  ),
  // --- Numeric
  cond('NumericEquals', 'k:n', '10', { 'k:n': '10' }, true),
  cond('NumericEquals', 'k:n', '10', { 'k:n': '10.0' }, true, 'numbers, not strings'),
  cond('NumericEquals', 'k:n', 10, { 'k:n': '11' }, false),
  cond('NumericEquals', 'k:n', '10', { 'k:n': 'ten' }, false, 'not a number'),
  cond('NumericEquals', 'k:n', '10', {}, false),
  cond('NumericEqualsIfExists', 'k:n', '10', {}, true),
  cond('NumericNotEquals', 'k:n', '10', { 'k:n': '11' }, true),
  cond('NumericNotEquals', 'k:n', '10', { 'k:n': '10' }, false),
  cond('NumericNotEquals', 'k:n', '10', {}, true),
  cond('NumericLessThan', 'k:n', '10', { 'k:n': '9' }, true),
  cond('NumericLessThan', 'k:n', '10', { 'k:n': '10' }, false),
  cond('NumericLessThanEquals', 'k:n', '10', { 'k:n': '10' }, true),
  cond('NumericLessThanEquals', 'k:n', '10', { 'k:n': '11' }, false),
  cond('NumericGreaterThan', 'k:n', '10', { 'k:n': '11' }, true),
  cond('NumericGreaterThan', 'k:n', '10', { 'k:n': '10' }, false),
  cond('NumericGreaterThanEquals', 'k:n', '10', { 'k:n': '10' }, true),
  cond('NumericGreaterThanEquals', 'k:n', '10', { 'k:n': '-3' }, false),
  cond('NumericGreaterThanIfExists', 'k:n', '10', {}, true),
  cond('NumericLessThanIfExists', 'k:n', '10', { 'k:n': '12' }, false),
  // --- Dates
  cond(
    'DateEquals',
    'aws:CurrentTime',
    '2026-01-01T00:00:00Z',
    { 'aws:CurrentTime': '2026-01-01T00:00:00Z' },
    true,
  ),
  cond(
    'DateEquals',
    'aws:CurrentTime',
    '2026-01-01T00:00:00Z',
    { 'aws:CurrentTime': '2026-01-01T00:00:01Z' },
    false,
  ),
  cond(
    'DateEquals',
    'aws:CurrentTime',
    '1767225600',
    { 'aws:CurrentTime': '2026-01-01T00:00:00Z' },
    true,
    'epoch seconds',
  ),
  cond(
    'DateNotEquals',
    'aws:CurrentTime',
    '2026-01-01T00:00:00Z',
    { 'aws:CurrentTime': '2026-01-02T00:00:00Z' },
    true,
  ),
  cond(
    'DateNotEquals',
    'aws:CurrentTime',
    '2026-01-01T00:00:00Z',
    { 'aws:CurrentTime': '2026-01-01T00:00:00Z' },
    false,
  ),
  cond(
    'DateLessThan',
    'aws:CurrentTime',
    '2027-01-01T00:00:00Z',
    { 'aws:CurrentTime': '2026-11-26T00:00:00Z' },
    true,
  ),
  cond(
    'DateLessThan',
    'aws:CurrentTime',
    '2025-01-01T00:00:00Z',
    { 'aws:CurrentTime': '2026-11-26T00:00:00Z' },
    false,
  ),
  cond(
    'DateLessThanEquals',
    'aws:CurrentTime',
    '2026-11-26T00:00:00Z',
    { 'aws:CurrentTime': '2026-11-26T00:00:00Z' },
    true,
  ),
  cond(
    'DateGreaterThan',
    'aws:CurrentTime',
    '2025-01-01',
    { 'aws:CurrentTime': '2026-11-26T00:00:00Z' },
    true,
    'date only',
  ),
  cond(
    'DateGreaterThan',
    'aws:CurrentTime',
    '2027-01-01',
    { 'aws:CurrentTime': '2026-11-26T00:00:00Z' },
    false,
  ),
  cond(
    'DateGreaterThanEquals',
    'aws:CurrentTime',
    '2026-11-26T00:00:00Z',
    { 'aws:CurrentTime': '2026-11-26T00:00:00Z' },
    true,
  ),
  cond(
    'DateGreaterThan',
    'aws:CurrentTime',
    'not-a-date',
    { 'aws:CurrentTime': '2026-11-26T00:00:00Z' },
    false,
  ),
  cond('DateLessThanIfExists', 'k:expires', '2026-01-01T00:00:00Z', {}, true),
  cond('DateLessThan', 'k:expires', '2026-01-01T00:00:00Z', {}, false),
  // --- Bool and Null
  cond('Bool', 'aws:SecureTransport', 'true', { 'aws:SecureTransport': 'true' }, true),
  cond('Bool', 'aws:SecureTransport', 'true', { 'aws:SecureTransport': 'false' }, false),
  cond(
    'Bool',
    'aws:SecureTransport',
    true,
    { 'aws:SecureTransport': 'true' },
    true,
    'a JSON boolean value',
  ),
  cond(
    'Bool',
    'aws:SecureTransport',
    'false',
    { 'aws:SecureTransport': 'False' },
    true,
    'case-insensitive',
  ),
  cond('Bool', 'aws:SecureTransport', 'true', {}, false),
  cond('BoolIfExists', 'aws:SecureTransport', 'true', {}, true),
  cond('Null', 'aws:RequestTag/team', 'true', {}, true, 'true: must be absent'),
  cond('Null', 'aws:RequestTag/team', 'true', { 'aws:RequestTag/team': 'x' }, false),
  cond(
    'Null',
    'aws:RequestTag/team',
    'false',
    { 'aws:RequestTag/team': 'x' },
    true,
    'false: must be present',
  ),
  cond('Null', 'aws:RequestTag/team', 'false', {}, false),
  cond('Null', 'aws:TagKeys', 'false', { 'aws:TagKeys': [] }, false, 'an empty list is absent'),
  // --- IP addresses
  cond('IpAddress', 'aws:SourceIp', '10.0.0.0/8', { 'aws:SourceIp': '10.1.2.3' }, true),
  cond('IpAddress', 'aws:SourceIp', '10.0.0.0/8', { 'aws:SourceIp': '11.1.2.3' }, false),
  cond(
    'IpAddress',
    'aws:SourceIp',
    '127.0.0.1',
    { 'aws:SourceIp': '127.0.0.1' },
    true,
    'a bare address',
  ),
  cond(
    'IpAddress',
    'aws:SourceIp',
    '127.0.0.1/32',
    { 'aws:SourceIp': '::ffff:127.0.0.1' },
    true,
    'IPv4-mapped IPv6',
  ),
  cond(
    'IpAddress',
    'aws:SourceIp',
    ['192.168.0.0/16', '127.0.0.0/8'],
    { 'aws:SourceIp': '127.0.0.1' },
    true,
  ),
  cond(
    'IpAddress',
    'aws:SourceIp',
    '2001:db8::/32',
    { 'aws:SourceIp': '2001:db8::1' },
    true,
    'IPv6',
  ),
  cond('IpAddress', 'aws:SourceIp', '2001:db8::/32', { 'aws:SourceIp': '2001:db9::1' }, false),
  cond('IpAddress', 'aws:SourceIp', '0.0.0.0/0', { 'aws:SourceIp': '203.0.113.9' }, true),
  cond('IpAddress', 'aws:SourceIp', '10.0.0.0/8', { 'aws:SourceIp': 'not-an-ip' }, false),
  cond('IpAddress', 'aws:SourceIp', '10.0.0.0/8', {}, false),
  cond('IpAddressIfExists', 'aws:SourceIp', '10.0.0.0/8', {}, true),
  cond('NotIpAddress', 'aws:SourceIp', '10.0.0.0/8', { 'aws:SourceIp': '11.0.0.1' }, true),
  cond('NotIpAddress', 'aws:SourceIp', '10.0.0.0/8', { 'aws:SourceIp': '10.0.0.1' }, false),
  cond('NotIpAddressIfExists', 'aws:SourceIp', '10.0.0.0/8', {}, true),
  // --- ARNs
  cond(
    'ArnEquals',
    'codestar-connections:HostArn',
    'arn:aws:codestar-connections:us-east-1:111122223333:host/ghes-1',
    {
      'codestar-connections:HostArn':
        'arn:aws:codestar-connections:us-east-1:111122223333:host/ghes-1',
    },
    true,
  ),
  cond(
    'ArnEquals',
    'codestar-connections:HostArn',
    'arn:aws:codestar-connections:us-east-1:111122223333:host/ghes-1',
    {
      'codestar-connections:HostArn':
        'arn:aws:codestar-connections:us-east-1:111122223333:host/ghes-2',
    },
    false,
  ),
  cond(
    'ArnLike',
    'codestar-connections:HostArn',
    'arn:aws:codestar-connections:*:111122223333:host/*',
    {
      'codestar-connections:HostArn': 'arn:aws:codestar-connections:eu-west-1:111122223333:host/x',
    },
    true,
  ),
  cond(
    'ArnLike',
    'codestar-connections:HostArn',
    'arn:aws:codestar-connections:*:111122223333:host/*',
    {
      'codestar-connections:HostArn': 'arn:aws:codestar-connections:eu-west-1:999999999999:host/x',
    },
    false,
  ),
  cond(
    'ArnLike',
    'aws:PrincipalArn',
    'arn:aws:iam::*:role/pipeline-*',
    { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/pipeline-main' },
    true,
  ),
  cond(
    'ArnLike',
    'aws:PrincipalArn',
    'arn:aws:iam::*:role/pipeline-*',
    { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/pipeline-main' },
    false,
  ),
  cond(
    'ArnLike',
    'aws:PrincipalArn',
    'arn:aws:iam::*:role/*',
    { 'aws:PrincipalArn': 'not-an-arn' },
    false,
    'not an ARN',
  ),
  cond(
    'ArnLike',
    'k:arn',
    'arn:aws:*:*:*:connection/*',
    { 'k:arn': 'arn:aws:codeconnections:us-east-1:111122223333:connection/a:b' },
    true,
    'colons inside the resource',
  ),
  cond(
    'ArnNotEquals',
    'aws:PrincipalArn',
    'arn:aws:iam::111122223333:user/alice',
    { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/bob' },
    true,
  ),
  cond(
    'ArnNotEquals',
    'aws:PrincipalArn',
    'arn:aws:iam::111122223333:user/alice',
    { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/alice' },
    false,
  ),
  cond(
    'ArnNotLike',
    'aws:PrincipalArn',
    'arn:aws:iam::*:user/*',
    { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/r' },
    true,
  ),
  cond(
    'ArnNotLike',
    'aws:PrincipalArn',
    'arn:aws:iam::*:user/*',
    { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/u' },
    false,
  ),
  cond(
    'ArnLikeIfExists',
    'codestar-connections:HostArn',
    'arn:aws:codestar-connections:*:*:host/*',
    {},
    true,
  ),
  cond(
    'ArnEqualsIfExists',
    'codestar-connections:HostArn',
    'arn:aws:codestar-connections:*:*:host/a',
    { 'codestar-connections:HostArn': 'arn:aws:codestar-connections:us-east-1:1:host/b' },
    false,
  ),
  // --- Binary
  cond('BinaryEquals', 'k:bin', 'QmluYXJ5', { 'k:bin': 'QmluYXJ5' }, true),
  cond('BinaryEquals', 'k:bin', 'QmluYXJ5', { 'k:bin': 'QmluYXJ6' }, false),
  // --- Multivalued keys and set operators
  cond(
    'ForAllValues:StringEquals',
    'aws:TagKeys',
    ['team', 'env'],
    { 'aws:TagKeys': ['team'] },
    true,
  ),
  cond(
    'ForAllValues:StringEquals',
    'aws:TagKeys',
    ['team', 'env'],
    { 'aws:TagKeys': ['team', 'env'] },
    true,
  ),
  cond(
    'ForAllValues:StringEquals',
    'aws:TagKeys',
    ['team', 'env'],
    { 'aws:TagKeys': ['team', 'cost'] },
    false,
  ),
  cond(
    'ForAllValues:StringEquals',
    'aws:TagKeys',
    ['team'],
    {},
    true,
    'an absent key passes ForAllValues',
  ),
  cond(
    'ForAllValues:StringEquals',
    'aws:TagKeys',
    ['team'],
    { 'aws:TagKeys': [] },
    true,
    'an empty set passes ForAllValues',
  ),
  cond(
    'ForAnyValue:StringEquals',
    'aws:TagKeys',
    ['team', 'env'],
    { 'aws:TagKeys': ['cost', 'team'] },
    true,
  ),
  cond(
    'ForAnyValue:StringEquals',
    'aws:TagKeys',
    ['team', 'env'],
    { 'aws:TagKeys': ['cost'] },
    false,
  ),
  cond(
    'ForAnyValue:StringEquals',
    'aws:TagKeys',
    ['team'],
    {},
    false,
    'an absent key fails ForAnyValue',
  ),
  cond(
    'ForAnyValue:StringLike',
    'aws:TagKeys',
    'team*',
    { 'aws:TagKeys': ['cost', 'team-a'] },
    true,
  ),
  cond(
    'ForAllValues:StringLike',
    'aws:TagKeys',
    ['team*', 'env'],
    { 'aws:TagKeys': ['team-a', 'env'] },
    true,
  ),
  cond(
    'ForAllValues:StringLike',
    'aws:TagKeys',
    ['team*'],
    { 'aws:TagKeys': ['team-a', 'env'] },
    false,
  ),
  cond(
    'ForAnyValue:StringNotEquals',
    'aws:TagKeys',
    ['team'],
    { 'aws:TagKeys': ['team', 'env'] },
    true,
    'some value differs',
  ),
  cond('ForAnyValue:StringNotEquals', 'aws:TagKeys', ['team'], { 'aws:TagKeys': ['team'] }, false),
  cond(
    'ForAllValues:StringNotEquals',
    'aws:TagKeys',
    ['secret'],
    { 'aws:TagKeys': ['team', 'env'] },
    true,
  ),
  cond(
    'ForAllValues:StringNotEquals',
    'aws:TagKeys',
    ['secret'],
    { 'aws:TagKeys': ['team', 'secret'] },
    false,
  ),
  cond(
    'ForAnyValue:StringEqualsIgnoreCase',
    'aws:TagKeys',
    ['TEAM'],
    { 'aws:TagKeys': ['team'] },
    true,
  ),
  cond('ForAllValues:StringEqualsIfExists', 'aws:TagKeys', ['team'], {}, true),
  cond(
    'ForAnyValue:StringEqualsIfExists',
    'aws:TagKeys',
    ['team'],
    {},
    true,
    'IfExists overrides the absent-key failure',
  ),
  cond(
    'StringEquals',
    'aws:TagKeys',
    'team',
    { 'aws:TagKeys': ['env', 'team'] },
    true,
    'multivalued key without a set operator',
  ),
  cond(
    'StringNotEquals',
    'aws:TagKeys',
    'team',
    { 'aws:TagKeys': ['env', 'team'] },
    false,
    'multivalued key without a set operator',
  ),
  cond('ForAnyValue:NumericGreaterThan', 'k:ns', '5', { 'k:ns': ['1', '9'] }, true),
  cond('ForAllValues:NumericGreaterThan', 'k:ns', '5', { 'k:ns': ['1', '9'] }, false),
  // --- Tags
  cond(
    'StringEquals',
    'aws:ResourceTag/team',
    'payments',
    { 'aws:ResourceTag/team': 'payments' },
    true,
  ),
  cond(
    'StringEquals',
    'aws:ResourceTag/team',
    'payments',
    { 'aws:ResourceTag/team': 'search' },
    false,
  ),
  cond('StringEquals', 'aws:RequestTag/team', 'payments', {}, false),
  cond(
    'StringEquals',
    'aws:ResourceTag/Team',
    'payments',
    { 'aws:ResourceTag/team': 'payments' },
    true,
    'tag key in the condition key compares case-insensitively',
  ),
  // --- Several clauses: AND across operators and keys, OR across values
  {
    name: 'two operators must both hold',
    statements: [
      allow({
        Condition: {
          StringEquals: { 'codestar-connections:ProviderType': 'Bitbucket' },
          StringLike: { 'aws:username': 'a*' },
        },
      }),
    ],
    context: { 'codestar-connections:ProviderType': 'Bitbucket', 'aws:username': 'bob' },
    expect: 'implicitDeny',
  },
  {
    name: 'two operators both holding',
    statements: [
      allow({
        Condition: {
          StringEquals: { 'codestar-connections:ProviderType': 'Bitbucket' },
          StringLike: { 'aws:username': 'a*' },
        },
      }),
    ],
    context: { 'codestar-connections:ProviderType': 'Bitbucket', 'aws:username': 'alice' },
    expect: 'allowed',
  },
  {
    name: 'two keys under one operator must both hold',
    statements: [
      allow({
        Condition: {
          StringEquals: { 'aws:username': 'alice', 'codestar-connections:ProviderType': 'GitHub' },
        },
      }),
    ],
    context: { 'codestar-connections:ProviderType': 'Bitbucket', 'aws:username': 'alice' },
    expect: 'implicitDeny',
  },
  {
    name: 'two statements: either may allow',
    statements: [
      allow({ Condition: { StringEquals: { 'aws:username': 'bob' } } }),
      allow({ Condition: { StringEquals: { 'aws:username': 'alice' } } }),
    ],
    context: { 'aws:username': 'alice' },
    expect: 'allowed',
  },
  // --- The documented example policies
  {
    name: 'pipeline role may UseConnection for one repository',
    statements: [
      {
        Effect: 'Allow',
        Action: 'codestar-connections:UseConnection',
        Resource: ARN,
        Condition: {
          'ForAllValues:StringEquals': {
            'codestar-connections:FullRepositoryId': ['payments/api'],
          },
        },
      },
    ],
    action: 'codestar-connections:UseConnection',
    context: { 'codestar-connections:FullRepositoryId': 'payments/api' },
    expect: 'allowed',
  },
  {
    name: 'pipeline role may not UseConnection for another repository',
    statements: [
      {
        Effect: 'Allow',
        Action: 'codestar-connections:UseConnection',
        Resource: ARN,
        Condition: {
          'ForAllValues:StringEquals': {
            'codestar-connections:FullRepositoryId': ['payments/api'],
          },
        },
      },
    ],
    action: 'codestar-connections:UseConnection',
    context: { 'codestar-connections:FullRepositoryId': 'search/api' },
    expect: 'implicitDeny',
  },
  {
    name: 'developer may create but not delete',
    statements: [
      allow({
        Action: [
          'codestar-connections:CreateConnection',
          'codestar-connections:Get*',
          'codestar-connections:List*',
        ],
      }),
      deny({ Action: 'codestar-connections:DeleteConnection' }),
    ],
    action: 'codestar-connections:DeleteConnection',
    expect: 'explicitDeny',
  },
  {
    name: 'auditor may list',
    statements: [allow({ Action: ['codestar-connections:List*', 'codeconnections:List*'] })],
    action: 'codeconnections:ListConnections',
    resource: '*',
    expect: 'allowed',
  },
  {
    name: 'auditor may not create',
    statements: [allow({ Action: ['codestar-connections:List*', 'codeconnections:List*'] })],
    action: 'codeconnections:CreateConnection',
    resource: '*',
    expect: 'implicitDeny',
  },
  {
    name: 'create only Bitbucket connections tagged team=payments',
    statements: [
      allow({
        Action: 'codestar-connections:CreateConnection',
        Condition: {
          StringEquals: {
            'codestar-connections:ProviderType': 'Bitbucket',
            'aws:RequestTag/team': 'payments',
          },
        },
      }),
    ],
    action: 'codestar-connections:CreateConnection',
    resource: '*',
    context: {
      'codestar-connections:ProviderType': 'Bitbucket',
      'aws:RequestTag/team': 'payments',
      'aws:TagKeys': ['team'],
    },
    expect: 'allowed',
  },
]

describe('evaluate (policy table)', () => {
  it('has at least 150 cases', () => expect(rows.length).toBeGreaterThanOrEqual(150))
  for (const row of rows)
    it(row.name, () => {
      const doc = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: row.statements }))
      const q = {
        action: row.action ?? 'codestar-connections:GetConnection',
        resource: row.resource ?? ARN,
        context: new RequestContext(row.context ?? {}),
      }
      const policies = [{ name: 'test', id: 'test', document: doc }]
      const fast = evaluate(policies, q)
      const explained = evaluate(policies, q, true)
      expect(fast.decision).toBe(row.expect)
      // The explaining path decides the same way and names the deciding statements.
      expect(explained.decision).toBe(row.expect)
      expect(explained.trace).toHaveLength(doc.statements.length)
      if (row.expect !== 'implicitDeny') expect(explained.deciding.length).toBeGreaterThan(0)
    })
})

// --- Across policy types: the caller's identity policies, its session policy and the resource's
// policy (a role trust policy), combined as in AWS's evaluation logic. The caller is a user with
// a path, or a session of a role with a path; `crossAccount` puts the caller in another account.
const ACCOUNT = '111122223333'
const OTHER = '444455556666'
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/team/alice`
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ci/deploy`
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/s1`
const TARGET = `arn:aws:iam::${ACCOUNT}:role/prod/target`

interface CrossRow {
  name: string
  identity: unknown[]
  session?: unknown[]
  resource?: unknown[]
  /** The resource policy must allow (a trust policy); default true. */
  required?: boolean
  caller?: 'user' | 'session'
  crossAccount?: boolean
  context?: Record<string, string | string[]>
  expect: Decision
  /** The policy type that decided an explicit deny. */
  by?: DecidedBy
}

const trusts = (principal: unknown, extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: principal,
  Action: 'sts:AssumeRole',
  ...extra,
})
const distrusts = (principal: unknown, extra: Record<string, unknown> = {}) => ({
  ...trusts(principal, extra),
  Effect: 'Deny',
})
const mayAssume = allow({ Action: 'sts:AssumeRole', Resource: TARGET })
const mayNotAssume = deny({
  Action: 'sts:AssumeRole',
  Resource: `arn:aws:iam::${ACCOUNT}:role/prod/*`,
})

const crossRows: CrossRow[] = [
  {
    name: 'identity deny beats a trust policy naming the user ARN',
    identity: [mayNotAssume],
    resource: [trusts({ AWS: USER_ARN })],
    expect: 'explicitDeny',
    by: 'identity',
  },
  {
    name: 'identity deny beats a trust policy naming the account root',
    identity: [mayAssume, mayNotAssume],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:root` })],
    expect: 'explicitDeny',
    by: 'identity',
  },
  {
    name: 'identity deny beats a trust policy naming the account id',
    identity: [mayNotAssume],
    resource: [trusts({ AWS: ACCOUNT })],
    expect: 'explicitDeny',
    by: 'identity',
  },
  {
    name: 'identity deny beats a trust policy naming everyone',
    identity: [mayNotAssume],
    resource: [trusts('*')],
    expect: 'explicitDeny',
    by: 'identity',
  },
  {
    name: 'a trust policy naming the user ARN allows without an identity policy',
    identity: [],
    resource: [trusts({ AWS: USER_ARN })],
    expect: 'allowed',
  },
  {
    name: 'a trust policy naming the user without her path does not name her',
    identity: [],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:user/alice` })],
    expect: 'implicitDeny',
  },
  {
    name: 'a trust policy naming the account root needs an identity allow',
    identity: [],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:root` })],
    expect: 'implicitDeny',
  },
  {
    name: 'a trust policy naming the account root and an identity allow allow',
    identity: [mayAssume],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:root` })],
    expect: 'allowed',
  },
  {
    name: 'an identity allow alone does not open a role whose trust names someone else',
    identity: [mayAssume],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })],
    expect: 'implicitDeny',
  },
  {
    name: 'an identity allow alone does not open a role that trusts a service only',
    identity: [allow()],
    resource: [trusts({ Service: 'codepipeline.amazonaws.com' })],
    expect: 'implicitDeny',
  },
  {
    name: 'an identity allow alone does not open a role that does not exist (no trust policy)',
    identity: [allow()],
    expect: 'implicitDeny',
  },
  {
    name: 'a trust deny naming the user beats an identity allow and a trust allow of the account',
    identity: [mayAssume],
    resource: [trusts({ AWS: ACCOUNT }), distrusts({ AWS: USER_ARN })],
    expect: 'explicitDeny',
    by: 'resource',
  },
  {
    name: 'a trust deny naming the account beats a trust allow naming the user',
    identity: [],
    resource: [trusts({ AWS: USER_ARN }), distrusts({ AWS: `arn:aws:iam::${ACCOUNT}:root` })],
    expect: 'explicitDeny',
    by: 'resource',
  },
  {
    name: 'a trust deny for another user does not apply',
    identity: [],
    resource: [trusts({ AWS: USER_ARN }), distrusts({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })],
    expect: 'allowed',
  },
  {
    name: 'a trust allow whose condition fails does not allow',
    identity: [],
    resource: [
      trusts({ AWS: USER_ARN }, { Condition: { StringEquals: { 'sts:ExternalId': 'x' } } }),
    ],
    context: { 'sts:ExternalId': 'y' },
    expect: 'implicitDeny',
  },
  {
    name: 'a trust deny whose condition holds denies',
    identity: [],
    resource: [
      trusts({ AWS: USER_ARN }),
      distrusts(
        { AWS: ACCOUNT },
        { Condition: { StringLike: { 'sts:RoleSessionName': 'tmp-*' } } },
      ),
    ],
    context: { 'sts:RoleSessionName': 'tmp-1' },
    expect: 'explicitDeny',
    by: 'resource',
  },
  {
    name: 'a trust statement for another action does not allow',
    identity: [],
    resource: [trusts({ AWS: USER_ARN }, { Action: 'sts:TagSession' })],
    expect: 'implicitDeny',
  },
  {
    name: 'a trust statement with sts:* allows',
    identity: [],
    resource: [trusts({ AWS: USER_ARN }, { Action: 'sts:*' })],
    expect: 'allowed',
  },
  // Role sessions: the session policy.
  {
    name: 'session: a session policy deny beats a trust naming the role',
    caller: 'session',
    identity: [allow()],
    session: [allow(), deny({ Action: 'sts:AssumeRole' })],
    resource: [trusts({ AWS: ROLE_ARN })],
    expect: 'explicitDeny',
    by: 'session',
  },
  {
    name: 'session: a session policy deny beats a trust naming the session ARN',
    caller: 'session',
    identity: [],
    session: [deny({ Action: 'sts:*' })],
    resource: [trusts({ AWS: SESSION_ARN })],
    expect: 'explicitDeny',
    by: 'session',
  },
  {
    name: 'session: a session policy that does not allow limits a trust naming the role',
    caller: 'session',
    identity: [],
    session: [allow({ Action: 'codestar-connections:List*' })],
    resource: [trusts({ AWS: ROLE_ARN })],
    expect: 'implicitDeny',
  },
  {
    name: 'session: a session policy does not limit a trust naming the session ARN',
    caller: 'session',
    identity: [],
    session: [allow({ Action: 'codestar-connections:List*' })],
    resource: [trusts({ AWS: SESSION_ARN })],
    expect: 'allowed',
  },
  {
    name: 'session: without a session policy a trust naming the role allows',
    caller: 'session',
    identity: [],
    resource: [trusts({ AWS: ROLE_ARN })],
    expect: 'allowed',
  },
  {
    name: 'session: a trust naming the role without its path does not name it',
    caller: 'session',
    identity: [],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:role/deploy` })],
    expect: 'implicitDeny',
  },
  {
    name: 'session: a trust naming the account needs identity and session allows',
    caller: 'session',
    identity: [mayAssume],
    session: [allow({ Action: 'sts:AssumeRole' })],
    resource: [trusts({ AWS: ACCOUNT })],
    expect: 'allowed',
  },
  {
    name: 'session: a trust naming the account with an identity allow but no session allow',
    caller: 'session',
    identity: [mayAssume],
    session: [allow({ Action: 'codestar-connections:*' })],
    resource: [trusts({ AWS: ACCOUNT })],
    expect: 'implicitDeny',
  },
  {
    name: 'session: an identity deny of the role beats a trust naming the session ARN',
    caller: 'session',
    identity: [deny({ Action: 'sts:AssumeRole' })],
    resource: [trusts({ AWS: SESSION_ARN })],
    expect: 'explicitDeny',
    by: 'identity',
  },
  // Both accounts: the caller in another account needs both its own policies and the trust.
  {
    name: 'cross-account: a trust naming the caller directly still needs her identity allow',
    crossAccount: true,
    identity: [],
    resource: [trusts({ AWS: `arn:aws:iam::${OTHER}:user/team/alice` })],
    expect: 'implicitDeny',
  },
  {
    name: "cross-account: a trust naming the caller's account root and an identity allow allow",
    crossAccount: true,
    identity: [mayAssume],
    resource: [trusts({ AWS: `arn:aws:iam::${OTHER}:root` })],
    expect: 'allowed',
  },
  {
    name: "cross-account: a trust naming the role's own account does not name the caller",
    crossAccount: true,
    identity: [mayAssume],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:root` })],
    expect: 'implicitDeny',
  },
  {
    name: 'cross-account: an identity deny beats a trust naming the caller',
    crossAccount: true,
    identity: [mayAssume, mayNotAssume],
    resource: [trusts({ AWS: `arn:aws:iam::${OTHER}:user/team/alice` })],
    expect: 'explicitDeny',
    by: 'identity',
  },
  {
    name: 'cross-account: an identity allow without any trust does not allow',
    crossAccount: true,
    identity: [allow()],
    expect: 'implicitDeny',
  },
  // A resource-based policy that is not required (not a trust policy): the union of allows.
  {
    name: 'resource allow + identity allow allow',
    required: false,
    identity: [mayAssume],
    resource: [trusts({ AWS: USER_ARN })],
    expect: 'allowed',
  },
  {
    name: 'identity allow alone allows when the resource policy says nothing',
    required: false,
    identity: [mayAssume],
    resource: [trusts({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` })],
    expect: 'allowed',
  },
  {
    name: 'a resource allow naming the account alone does not allow',
    required: false,
    identity: [],
    resource: [trusts({ AWS: ACCOUNT })],
    expect: 'implicitDeny',
  },
  {
    name: 'a resource deny beats an identity allow',
    required: false,
    identity: [allow()],
    resource: [distrusts('*')],
    expect: 'explicitDeny',
    by: 'resource',
  },
]

describe('evaluate across policy types (identity, session, trust; both accounts)', () => {
  it('has the cross-policy cases', () => expect(crossRows.length).toBeGreaterThanOrEqual(30))
  const named = (name: string, statements: unknown[], kind: 'identity' | 'trust' = 'identity') => ({
    name,
    id: name,
    document: parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), kind),
  })
  for (const row of crossRows)
    it(row.name, () => {
      const accountId = row.crossAccount ? OTHER : ACCOUNT
      const rewrite = (arn: string) => arn.replace(`::${ACCOUNT}:`, `::${accountId}:`)
      const caller: Caller =
        row.caller === 'session'
          ? { arn: rewrite(SESSION_ARN), roleArn: rewrite(ROLE_ARN), accountId, partition: 'aws' }
          : { arn: rewrite(USER_ARN), accountId, partition: 'aws' }
      const q = {
        action: 'sts:AssumeRole',
        resource: TARGET,
        context: new RequestContext(row.context ?? {}),
      }
      const identityPolicies = row.identity.length ? [named('identity', row.identity)] : []
      for (const explain of [false, true]) {
        const identity = evaluate(identityPolicies, q, explain)
        const session = row.session
          ? evaluate([named('session', row.session)], q, explain)
          : undefined
        const resource = row.resource
          ? evaluateResourcePolicy(named('trust', row.resource, 'trust'), caller, q, explain)
          : undefined
        const out = combine({
          identity,
          ...(session ? { session } : {}),
          ...(resource ? { resource } : {}),
          resourceRequired: row.required ?? true,
          crossAccount: row.crossAccount ?? false,
        })
        expect(out.decision).toBe(row.expect)
        if (row.by) expect(out.by).toBe(row.by)
      }
    })
})
