/**
 * Property test for IAM and STS: hundreds of malformed Query requests. Each gets a 4xx XML error
 * with a code, the server stays up, and no user, role, policy or key changes.
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import {
  CreateRoleCommand,
  CreateUserCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import { describeApi } from '../helpers/api.js'
import { iamClient, policy } from '../helpers/iam.js'
import type { RawRequest } from '../helpers/client.js'

const ACCOUNT = '000000000000'
const form = { 'content-type': 'application/x-www-form-urlencoded' }
const enc = encodeURIComponent

describeApi('Malformed IAM and STS requests (property test)', (f) => {
  const snapshot = async () => {
    const s = f.server.store
    const users = await s.iam.users.list(ACCOUNT, '/', '', 1000)
    const roles = await s.iam.roles.list(ACCOUNT, '/', '', 1000)
    const policies = await s.iam.policies.list(
      ACCOUNT,
      { pathPrefix: '/', onlyAttached: false },
      '',
      1000,
    )
    const inline = await Promise.all(users.map((u) => s.iam.policiesOf(ACCOUNT, 'user', u.name)))
    const keys = await Promise.all(users.map((u) => s.accessKeys.listForUser(ACCOUNT, u.name)))
    return JSON.stringify({
      users,
      roles,
      policies,
      inline,
      keys,
      version: await s.iam.version(ACCOUNT),
    })
  }

  const badName = fc.oneof(
    fc.constant(''),
    fc.string({ minLength: 65, maxLength: 90 }),
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[\w+=,.@-]+$/.test(s)),
  )
  const badDoc = fc.oneof(
    fc.string({ maxLength: 60 }).filter((s) => {
      try {
        JSON.parse(s)
        return false
      } catch {
        return true
      }
    }),
    fc.constant(policy({ Effect: 'Allow', Action: '*' })),
    fc.constant(policy({ Effect: 'Maybe', Action: '*', Resource: '*' })),
    fc.constant(JSON.stringify({ Version: '1999-01-01', Statement: [] })),
    fc.constant(policy({ Effect: 'Allow', Action: 'noservice', Resource: '*' })),
    fc.constant(policy({ Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' })),
  )

  const requests: fc.Arbitrary<RawRequest> = fc
    .oneof(
      fc
        .string({ maxLength: 40 })
        .filter((a) => !/^[A-Za-z]+$/.test(a))
        .map((a) => ({ rawBody: `Action=${enc(a)}&Version=2010-05-08` })),
      fc
        .constantFrom('CreateGroup', 'DeleteAccountAlias', 'CreateLoginProfile', 'GetSessionToken')
        .map((a) => ({ rawBody: `Action=${a}` })),
      badName.map((n) => ({ rawBody: `Action=CreateUser&UserName=${enc(n)}` })),
      badName.map((n) => ({
        rawBody: `Action=CreateRole&RoleName=${enc(n)}&AssumeRolePolicyDocument=${enc('{}')}`,
      })),
      badDoc.map((d) => ({
        rawBody: `Action=PutUserPolicy&UserName=fuzz-user&PolicyName=p&PolicyDocument=${enc(d)}`,
      })),
      badDoc.map((d) => ({
        rawBody: `Action=CreatePolicy&PolicyName=fz&PolicyDocument=${enc(d)}`,
      })),
      badDoc.map((d) => ({
        rawBody: `Action=CreateRole&RoleName=fz&AssumeRolePolicyDocument=${enc(d)}`,
      })),
      fc
        .string({ maxLength: 12 })
        .filter((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 1000)
        .map((m) => ({ rawBody: `Action=ListUsers&MaxItems=${enc(m)}` })),
      fc
        .string({ minLength: 1, maxLength: 30 })
        .map((m) => ({ rawBody: `Action=ListUsers&Marker=${enc(m)}x` })),
      fc.constantFrom('Enabled', 'active', '').map((st) => ({
        rawBody: `Action=UpdateAccessKey&UserName=fuzz-user&AccessKeyId=JKIAAAAAAAAAAAAAAAAA&Status=${st}`,
      })),
      fc.constant({ rawBody: 'Action=DeleteUser&UserName=fuzz-user' }),
      fc.constant({ rawBody: 'Action=CreateUser&UserName=fuzz-user' }),
      fc.constant({ rawBody: 'Action=DeleteRole&RoleName=fuzz-role' }),
      fc.constant({ rawBody: 'Action=GetUser&UserName=nobody' }),
      fc.constant({
        rawBody: `Action=DeletePolicy&PolicyArn=${enc('arn:aws:iam::000000000000:policy/none')}`,
      }),
      fc.constant({
        rawBody: `Action=AttachUserPolicy&UserName=fuzz-user&PolicyArn=${enc('arn:aws:iam::000000000000:policy/none')}`,
      }),
      fc.integer({ min: -5, max: 899 }).map((d) => ({
        signingService: 'sts',
        rawBody: `Action=AssumeRole&RoleArn=${enc('arn:aws:iam::000000000000:role/fuzz-role')}&RoleSessionName=abc&DurationSeconds=${d}`,
      })),
      fc.constant({
        signingService: 'sts',
        rawBody: `Action=AssumeRole&RoleArn=${enc('arn:aws:iam::000000000000:role/fuzz-role')}&RoleSessionName=root-may-not`,
      }),
      fc
        .string({ maxLength: 100 })
        .map((b) => ({ rawBody: b.includes('Action=') ? 'Action=' : `${b}` })),
      fc.string({ maxLength: 40 }).map((s) => ({
        rawBody: 'Action=ListUsers',
        credentials: { accessKeyId: f.server.credentials.accessKeyId, secretAccessKey: `${s}x` },
      })),
      fc.constant({ rawBody: 'Action=ListUsers', credentials: null }),
      fc.constant({ rawBody: 'Action=ListUsers&Version=2010-05-08&%E0%A4%A=1' }),
    )
    .map((r) => ({ target: null, signingService: 'iam', headers: form, ...r }) as RawRequest)

  it('answers every malformed request with a 4xx XML error and changes nothing', async () => {
    const iam = iamClient(f.server.url, f.server.credentials)
    await iam.send(new CreateUserCommand({ UserName: 'fuzz-user' }))
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'fuzz-user',
        PolicyName: 'keep',
        PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    )
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'fuzz-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: {
            Effect: 'Allow',
            Principal: { AWS: '000000000000' },
            Action: 'sts:AssumeRole',
          },
        }),
      }),
    )
    // With a policy the role cannot be deleted, so DeleteRole below is refused too.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'fuzz-role',
        PolicyName: 'keep',
        PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    )
    const before = await snapshot()
    let count = 0
    await fc.assert(
      fc.asyncProperty(requests, async (req) => {
        count++
        const res = await f.raw.call(req)
        const code = /<Code>([^<]+)<\/Code>/.exec(res.text)?.[1]
        expect(
          res.status,
          `${JSON.stringify(req).slice(0, 200)} → ${res.text.slice(0, 300)}`,
        ).toBeGreaterThanOrEqual(400)
        expect(res.status).toBeLessThan(500)
        expect(res.text).toMatch(
          /^<ErrorResponse xmlns="https:\/\/(iam|sts)\.amazonaws\.com\/doc\/[\d-]+\/"><Error><Type>Sender<\/Type>/,
        )
        expect(code).toBeDefined()
        expect(res.headers.get('x-amzn-errortype')).toBe(code)
      }),
      { numRuns: 300 },
    )
    expect(count).toBe(300)
    expect(await snapshot()).toBe(before)
    expect((await fetch(`${f.server.url}/health`)).status).toBe(200)
  })
})
