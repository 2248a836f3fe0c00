/**
 * IAM calls are authorized on the resource's real ARN, its path included: a Deny on
 * `user/admins/*` or `role/admins/*` stops every IAM call on users and roles created with
 * `--path /admins/`, whatever ARN or name the caller writes. An unauthorized caller is told
 * AccessDenied whether or not the user or role exists.
 */
import { expect, it } from 'vitest'
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetRoleCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  SimulatePrincipalPolicyCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { AssumeRoleCommand } from '@aws-sdk/client-sts'
import { describeApi, sdkError } from '../helpers/api.js'
import { iamClient, policy, stsClient, userWithPolicy } from '../helpers/iam.js'

const ACCOUNT = '000000000000'
const trust = (principal: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  })
/** May do anything in IAM and STS, except on users and roles under /admins/. */
const delegatedAdmin = policy(
  { Effect: 'Allow', Action: ['iam:*', 'sts:AssumeRole'], Resource: '*' },
  {
    Sid: 'NotTheAdmins',
    Effect: 'Deny',
    Action: ['iam:*', 'sts:AssumeRole'],
    Resource: [`arn:aws:iam::${ACCOUNT}:user/admins/*`, `arn:aws:iam::${ACCOUNT}:role/admins/*`],
  },
)

describeApi('IAM authorizes on real ARNs (paths)', (f) => {
  const root = () => iamClient(f.server.url, f.server.credentials)

  /** An admin user and role under /admins/, and the delegated admin who must not touch them. */
  async function setup(suffix: string) {
    const c = root()
    const boss = `boss-${suffix}`
    const ops = `ops-${suffix}`
    const mallory = `mallory-${suffix}`
    await c.send(new CreateUserCommand({ UserName: boss, Path: '/admins/' }))
    const bossKey = (await c.send(new CreateAccessKeyCommand({ UserName: boss }))).AccessKey!
    await c.send(
      new PutUserPolicyCommand({
        UserName: boss,
        PolicyName: 'admin',
        PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    )
    await c.send(
      new CreateRoleCommand({
        RoleName: ops,
        Path: '/admins/',
        AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/admins/${boss}`),
      }),
    )
    await c.send(
      new PutRolePolicyCommand({
        RoleName: ops,
        PolicyName: 'admin',
        PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    )
    const creds = await userWithPolicy(c, mallory, delegatedAdmin)
    return { boss, bossKey, ops, mallory, creds, attacker: iamClient(f.server.url, creds) }
  }

  const denied = async (p: Promise<unknown>, resource: string) => {
    const err = await sdkError(p)
    expect(err.name).toBe('AccessDenied')
    expect(err.message).toContain(`on resource: ${resource}`)
    expect(err.message).toContain('explicit deny')
  }

  it('a Deny on user/admins/* stops CreateAccessKey, PutUserPolicy, DeleteUser and every other user call on a user created with --path /admins/', async () => {
    const { boss, bossKey, attacker } = await setup('u')
    const arn = `arn:aws:iam::${ACCOUNT}:user/admins/${boss}`
    const managed = await root().send(
      new CreatePolicyCommand({
        PolicyName: 'everything-u',
        PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    )
    const attacks: (() => Promise<unknown>)[] = [
      () => attacker.send(new CreateAccessKeyCommand({ UserName: boss })),
      () =>
        attacker.send(
          new PutUserPolicyCommand({
            UserName: boss,
            PolicyName: 'pwn',
            PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
          }),
        ),
      () =>
        attacker.send(
          new AttachUserPolicyCommand({ UserName: boss, PolicyArn: managed.Policy!.Arn! }),
        ),
      () => attacker.send(new DeleteUserPolicyCommand({ UserName: boss, PolicyName: 'admin' })),
      () => attacker.send(new GetUserPolicyCommand({ UserName: boss, PolicyName: 'admin' })),
      () => attacker.send(new ListUserPoliciesCommand({ UserName: boss })),
      () => attacker.send(new GetUserCommand({ UserName: boss })),
      () => attacker.send(new ListAccessKeysCommand({ UserName: boss })),
      () =>
        attacker.send(
          new UpdateAccessKeyCommand({
            UserName: boss,
            AccessKeyId: bossKey.AccessKeyId!,
            Status: 'Inactive',
          }),
        ),
      () =>
        attacker.send(
          new DeleteAccessKeyCommand({ UserName: boss, AccessKeyId: bossKey.AccessKeyId! }),
        ),
      () => attacker.send(new DeleteUserCommand({ UserName: boss })),
    ]
    for (const attack of attacks) await denied(attack(), arn)
    // Authorized on the key owner's ARN; the denial does not name the owner.
    const lastUsed = await sdkError(
      attacker.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: bossKey.AccessKeyId! })),
    )
    expect(lastUsed.name).toBe('AccessDenied')
    expect(lastUsed.message).not.toContain(boss)

    // Nothing happened to the admin.
    const c = root()
    expect((await c.send(new GetUserCommand({ UserName: boss }))).User?.Arn).toBe(arn)
    const keys = await c.send(new ListAccessKeysCommand({ UserName: boss }))
    expect(keys.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status])).toEqual([
      [bossKey.AccessKeyId, 'Active'],
    ])
    expect((await c.send(new ListUserPoliciesCommand({ UserName: boss }))).PolicyNames).toEqual([
      'admin',
    ])
  })

  it('the same Deny lets the delegated admin manage users outside /admins/', async () => {
    const { attacker } = await setup('ok')
    await root().send(new CreateUserCommand({ UserName: 'worker-ok', Path: '/team/' }))
    const key = await attacker.send(new CreateAccessKeyCommand({ UserName: 'worker-ok' }))
    expect(key.AccessKey).toMatchObject({ UserName: 'worker-ok', Status: 'Active' })
    expect(key.AccessKey?.AccessKeyId).toMatch(/^JKIA[A-Z2-7]{16}$/)
    // A user that does not exist is authorized on its path-less ARN, then not found.
    const ghost = await sdkError(attacker.send(new CreateAccessKeyCommand({ UserName: 'ghost' })))
    expect(ghost.name).toBe('NoSuchEntityException')
  })

  it('a Deny on role/admins/* stops UpdateAssumeRolePolicy (and so AssumeRole) and every other role call on a role created with --path /admins/', async () => {
    const { ops, mallory, creds, attacker } = await setup('r')
    const arn = `arn:aws:iam::${ACCOUNT}:role/admins/${ops}`
    const managed = await root().send(
      new CreatePolicyCommand({
        PolicyName: 'everything-r',
        PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    )
    const attacks: (() => Promise<unknown>)[] = [
      () =>
        attacker.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: ops,
            PolicyDocument: trust(`arn:aws:iam::${ACCOUNT}:user/${mallory}`),
          }),
        ),
      () =>
        attacker.send(
          new PutRolePolicyCommand({
            RoleName: ops,
            PolicyName: 'pwn',
            PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
          }),
        ),
      () =>
        attacker.send(
          new AttachRolePolicyCommand({ RoleName: ops, PolicyArn: managed.Policy!.Arn! }),
        ),
      () => attacker.send(new DeleteRolePolicyCommand({ RoleName: ops, PolicyName: 'admin' })),
      () => attacker.send(new GetRoleCommand({ RoleName: ops })),
      () => attacker.send(new DeleteRoleCommand({ RoleName: ops })),
    ]
    for (const attack of attacks) await denied(attack(), arn)

    // The trust policy still names only the admin: the attacker cannot assume the role.
    const role = await root().send(new GetRoleCommand({ RoleName: ops }))
    expect(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)).not.toContain(mallory)
    const assume = await sdkError(
      stsClient(f.server.url, creds).send(
        new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'pwn' }),
      ),
    )
    expect(assume.name).toBe('AccessDenied')
  })

  it('SimulatePrincipalPolicy is authorized on the real ARN whatever path the caller writes, and answers with the real ARN', async () => {
    const { boss, attacker } = await setup('s')
    const real = `arn:aws:iam::${ACCOUNT}:user/admins/${boss}`
    for (const source of [`arn:aws:iam::${ACCOUNT}:user/${boss}`, real]) {
      const err = await sdkError(
        attacker.send(
          new SimulatePrincipalPolicyCommand({ PolicySourceArn: source, ActionNames: ['iam:*'] }),
        ),
      )
      expect(err.name).toBe('AccessDenied')
      expect(err.message).toContain(`on resource: ${real}`)
    }
    // The root may simulate; the answer is about the real principal.
    const res = await root().send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/${boss}`,
        ActionNames: ['iam:CreateUser'],
      }),
    )
    expect(res.EvaluationResults?.[0]?.EvalDecision).toBe('allowed')
  })

  it('tells an unauthorized caller AccessDenied whether or not the user or role exists', async () => {
    const { boss, bossKey, ops } = await setup('x')
    const nobody = iamClient(f.server.url, await userWithPolicy(root(), 'nobody-x'))
    const sts = stsClient(f.server.url, await userWithPolicy(root(), 'nobody-sts'))
    const pairs: [string, (name: string) => Promise<unknown>][] = [
      ['user', (n) => nobody.send(new CreateAccessKeyCommand({ UserName: n }))],
      ['user', (n) => nobody.send(new DeleteUserCommand({ UserName: n }))],
      ['user', (n) => nobody.send(new GetUserCommand({ UserName: n }))],
      ['role', (n) => nobody.send(new GetRoleCommand({ RoleName: n }))],
      [
        'role',
        (n) =>
          nobody.send(
            new UpdateAssumeRolePolicyCommand({ RoleName: n, PolicyDocument: trust(ACCOUNT) }),
          ),
      ],
    ]
    // An access key: the same answer for the admin's key and a key that does not exist.
    const lastUsed = async (id: string) => {
      const err = await sdkError(nobody.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id })))
      return `${err.name}: ${err.message.replace(id, '<key>')}`
    }
    expect(await lastUsed(bossKey.AccessKeyId!)).toBe(await lastUsed('JKIAAAAAAAAAAAAAAAAA'))
    for (const [type, call] of pairs) {
      const existing = await sdkError(call(type === 'user' ? boss : ops))
      const missing = await sdkError(call('does-not-exist'))
      expect([existing.name, missing.name]).toEqual(['AccessDenied', 'AccessDenied'])
    }
    // AssumeRole: the same answer for a role that exists (not trusting the caller), a role that
    // does not, and a real role named with a wrong path.
    const messages: string[] = []
    for (const roleArn of [
      `arn:aws:iam::${ACCOUNT}:role/admins/${ops}`,
      `arn:aws:iam::${ACCOUNT}:role/admins/does-not-exist`,
      `arn:aws:iam::${ACCOUNT}:role/elsewhere/${ops}`,
    ]) {
      const err = await sdkError(
        sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'ss' })),
      )
      expect(err.name).toBe('AccessDenied')
      messages.push(err.message.replace(roleArn, '<role>'))
    }
    expect(new Set(messages).size).toBe(1)
  })
})
