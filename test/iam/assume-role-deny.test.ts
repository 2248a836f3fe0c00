/**
 * AssumeRole follows AWS's evaluation logic across policy types: an explicit Deny in the caller's
 * own identity policies or in its session policy wins over a trust policy that names the caller
 * directly, and a session policy limits what a trust policy naming the session's role grants.
 */
import { expect, it } from 'vitest'
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { AssumeRoleCommand } from '@aws-sdk/client-sts'
import { ListConnectionsCommand } from '@aws-sdk/client-codestar-connections'
import { describeApi, sdkError } from '../helpers/api.js'
import { sdkClient } from '../helpers/client.js'
import type { Credentials } from '../helpers/client.js'
import { expectRoleSession, iamClient, policy, stsClient, userWithPolicy } from '../helpers/iam.js'

const ACCOUNT = '000000000000'
const trust = (...principals: string[]) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principals }, Action: 'sts:AssumeRole' }],
  })
const roleArn = (name: string, path = '/') => `arn:aws:iam::${ACCOUNT}:role${path}${name}`

describeApi('AssumeRole: an explicit deny anywhere wins', (f) => {
  const iam = () => iamClient(f.server.url, f.server.credentials)
  const assume = (creds: Credentials, arn: string, extra: { Policy?: string } = {}) =>
    stsClient(f.server.url, creds).send(
      new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'attempt', ...extra }),
    )
  const sessionCreds = (out: Awaited<ReturnType<typeof assume>>): Credentials => ({
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken!,
  })

  it("a Deny in the caller's own identity policy beats a trust policy that names her directly", async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'deploy',
        Path: '/prod/',
        AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/eve`),
      }),
    )
    const eve = await userWithPolicy(
      c,
      'eve',
      policy({
        Sid: 'NoProdRoles',
        Effect: 'Deny',
        Action: 'sts:AssumeRole',
        Resource: `arn:aws:iam::${ACCOUNT}:role/prod/*`,
      }),
    )
    const err = await sdkError(assume(eve, roleArn('deploy', '/prod/')))
    expect(err.name).toBe('AccessDenied')
    expect(err.message).toContain(
      `User: arn:aws:iam::${ACCOUNT}:user/eve is not authorized to perform: sts:AssumeRole on resource: ${roleArn('deploy', '/prod/')} with an explicit deny in an identity-based policy: test (statement NoProdRoles)`,
    )
    // Without the deny, the trust policy alone lets her in (no identity allow needed).
    const dan = await userWithPolicy(iam(), 'dan')
    await c.send(
      new CreateRoleCommand({
        RoleName: 'deploy-dan',
        Path: '/prod/',
        AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/dan`),
      }),
    )
    await expectRoleSession(
      f.server.url,
      await assume(dan, roleArn('deploy-dan', '/prod/')),
      'deploy-dan',
      'attempt',
    )
  })

  it('a Deny in the caller identity policy beats a trust policy that names the account, even with an Allow', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({ RoleName: 'shared-x', AssumeRolePolicyDocument: trust(ACCOUNT) }),
    )
    const frank = await userWithPolicy(
      c,
      'frank',
      policy(
        { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
        { Effect: 'Deny', Action: 'sts:*', Resource: roleArn('shared-x') },
      ),
    )
    const err = await sdkError(assume(frank, roleArn('shared-x')))
    expect(err.name).toBe('AccessDenied')
    expect(err.message).toContain('with an explicit deny in an identity-based policy')
  })

  it("a Deny in a role session's session policy beats the next role's trust in that role (role chaining)", async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'first',
        AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/gina`),
      }),
    )
    await c.send(
      new CreateRoleCommand({
        RoleName: 'second',
        Path: '/chain/',
        AssumeRolePolicyDocument: trust(roleArn('first')),
      }),
    )
    const gina = await userWithPolicy(c, 'gina')
    // Without a session policy, the session of `first` may assume `second`.
    const open = sessionCreds(await assume(gina, roleArn('first')))
    await expectRoleSession(
      f.server.url,
      await assume(open, roleArn('second', '/chain/')),
      'second',
      'attempt',
    )
    // A session policy that denies AssumeRole wins over the trust policy.
    const limited = sessionCreds(
      await assume(gina, roleArn('first'), {
        Policy: policy(
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Deny', Action: 'sts:AssumeRole', Resource: '*' },
        ),
      }),
    )
    const err = await sdkError(assume(limited, roleArn('second', '/chain/')))
    expect(err.name).toBe('AccessDenied')
    expect(err.message).toContain('with an explicit deny in a session policy')
    // A session policy that does not allow AssumeRole limits what the trust policy grants too.
    const narrow = sessionCreds(
      await assume(gina, roleArn('first'), {
        Policy: policy({ Effect: 'Allow', Action: 'codestar-connections:List*', Resource: '*' }),
      }),
    )
    expect((await sdkError(assume(narrow, roleArn('second', '/chain/')))).name).toBe('AccessDenied')
  })

  it("reports a session policy's explicit deny even where the role's policies do not allow", async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'bare',
        AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/kim`),
      }),
    )
    const kim = await userWithPolicy(c, 'kim')
    const session = sessionCreds(
      await assume(kim, roleArn('bare'), {
        Policy: policy({ Effect: 'Deny', Action: 'codestar-connections:*', Resource: '*' }),
      }),
    )
    const err = await sdkError(
      sdkClient(f.server.url, session).send(new ListConnectionsCommand({})),
    )
    expect(err.name).toBe('AccessDeniedException')
    expect(err.message).toContain('with an explicit deny in a session policy')
  })

  it('a Deny in the trust policy beats an Allow in the identity policy', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'fenced',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' },
            {
              Effect: 'Deny',
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/hank` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    )
    const hank = await userWithPolicy(
      c,
      'hank',
      policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }),
    )
    const err = await sdkError(assume(hank, roleArn('fenced')))
    expect(err.message).toContain('with an explicit deny in a resource-based policy')
    const ida = await userWithPolicy(
      c,
      'ida',
      policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }),
    )
    await expectRoleSession(f.server.url, await assume(ida, roleArn('fenced')), 'fenced', 'attempt')
  })

  it("uses the caller's real ARN (path included) to match the trust policy", async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'for-ops',
        AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/ops/june`),
      }),
    )
    await c.send(
      new PutRolePolicyCommand({
        RoleName: 'for-ops',
        PolicyName: 'p',
        PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    )
    await c.send(new CreateUserCommand({ UserName: 'june', Path: '/ops/' }))
    const key = (await c.send(new CreateAccessKeyCommand({ UserName: 'june' }))).AccessKey!
    const june = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }
    await expectRoleSession(
      f.server.url,
      await assume(june, roleArn('for-ops')),
      'for-ops',
      'attempt',
    )
    // A trust policy naming the path-less ARN does not name her.
    await c.send(
      new CreateRoleCommand({
        RoleName: 'for-pathless',
        AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/june`),
      }),
    )
    expect((await sdkError(assume(june, roleArn('for-pathless')))).name).toBe('AccessDenied')
  })
})
