import { expect, it } from 'vitest'
import {
  CreateRoleCommand,
  PutRolePolicyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import {
  CreateConnectionCommand,
  DeleteConnectionCommand,
  ListConnectionsCommand,
} from '@aws-sdk/client-codestar-connections'
import { describeApi, sdkError } from '../helpers/api.js'
import { sdkClient } from '../helpers/client.js'
import { expectRoleSession, iamClient, policy, stsClient, userWithPolicy } from '../helpers/iam.js'

const trust = (principal: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...extra }],
  })
const pipelinePolicy = policy({
  Effect: 'Allow',
  Action: ['codestar-connections:ListConnections', 'codestar-connections:CreateConnection'],
  Resource: '*',
})

describeApi('STS AssumeRole', (f) => {
  const iam = () => iamClient(f.server.url, f.server.credentials)

  it('issues temporary credentials that SigV4 accepts with X-Amz-Security-Token and that carry the role policies', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'pipeline',
        AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/deployer' }),
      }),
    )
    await c.send(
      new PutRolePolicyCommand({
        RoleName: 'pipeline',
        PolicyName: 'p',
        PolicyDocument: pipelinePolicy,
      }),
    )
    const deployer = await userWithPolicy(c, 'deployer')
    const out = await stsClient(f.server.url, deployer).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/pipeline',
        RoleSessionName: 'build-42',
        DurationSeconds: 900,
      }),
    )
    const creds = out.Credentials!
    expect(creds.AccessKeyId).toMatch(/^JSIA/)
    expect(creds.SessionToken!.length).toBeGreaterThan(100)
    expect(creds.Expiration!.getTime() - Date.now()).toBeGreaterThan(850_000)
    expect(out.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::000000000000:assumed-role/pipeline/build-42',
    )
    const session = {
      accessKeyId: creds.AccessKeyId!,
      secretAccessKey: creds.SecretAccessKey!,
      sessionToken: creds.SessionToken!,
    }

    const who = await stsClient(f.server.url, session).send(new GetCallerIdentityCommand({}))
    expect(who.Arn).toBe('arn:aws:sts::000000000000:assumed-role/pipeline/build-42')
    expect(who.UserId).toMatch(/^AROA[A-Z2-7]+:build-42$/)

    const sdk = sdkClient(f.server.url, session)
    const { ConnectionArn } = await sdk.send(
      new CreateConnectionCommand({ ConnectionName: 'from-role', ProviderType: 'Bitbucket' }),
    )
    expect(
      (await sdk.send(new ListConnectionsCommand({}))).Connections?.map((x) => x.ConnectionArn),
    ).toContain(ConnectionArn)
    const denied = await sdkError(sdk.send(new DeleteConnectionCommand({ ConnectionArn })))
    expect(denied.name).toBe('AccessDeniedException')
    expect(denied.message).toContain(
      'User: arn:aws:sts::000000000000:assumed-role/pipeline/build-42 is not authorized to perform: codestar-connections:DeleteConnection',
    )

    // Without the session token, or with another one, the temporary key is refused.
    const noToken = sdkClient(f.server.url, {
      accessKeyId: session.accessKeyId,
      secretAccessKey: session.secretAccessKey,
    })
    expect((await sdkError(noToken.send(new ListConnectionsCommand({})))).name).toBe(
      'UnrecognizedClientException',
    )
    const wrongToken = sdkClient(f.server.url, {
      ...session,
      sessionToken: `${session.sessionToken.slice(0, -4)}AAAA`,
    })
    expect((await sdkError(wrongToken.send(new ListConnectionsCommand({})))).name).toBe(
      'UnrecognizedClientException',
    )
  })

  it('refuses expired temporary credentials with ExpiredTokenException', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'short',
        AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/shorty' }),
      }),
    )
    await c.send(
      new PutRolePolicyCommand({
        RoleName: 'short',
        PolicyName: 'p',
        PolicyDocument: pipelinePolicy,
      }),
    )
    const user = await userWithPolicy(c, 'shorty')
    const out = await stsClient(f.server.url, user).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/short',
        RoleSessionName: 'session',
      }),
    )
    const key = (await f.server.store.accessKeys.get(out.Credentials!.AccessKeyId!))!
    await f.server.store.accessKeys.put({ ...key, expiresAt: Date.now() - 1000 })
    const sdk = sdkClient(f.server.url, {
      accessKeyId: key.accessKeyId,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    })
    const err = await sdkError(sdk.send(new ListConnectionsCommand({})))
    expect(err.name).toBe('ExpiredTokenException')
  })

  it('needs an identity policy too when the trust policy trusts the whole account', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'shared',
        AssumeRolePolicyDocument: trust({ AWS: '000000000000' }),
      }),
    )
    const without = await userWithPolicy(c, 'no-assume')
    const err = await sdkError(
      stsClient(f.server.url, without).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/shared',
          RoleSessionName: 'session',
        }),
      ),
    )
    expect(err.name).toBe('AccessDenied')
    expect(err.message).toMatch(
      /not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/shared/,
    )
    const withPolicy = await userWithPolicy(
      c,
      'may-assume',
      policy({
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: 'arn:aws:iam::000000000000:role/shared',
      }),
    )
    const ok = await stsClient(f.server.url, withPolicy).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/shared',
        RoleSessionName: 'session',
      }),
    )
    await expectRoleSession(f.server.url, ok, 'shared', 'session')
  })

  it('refuses roles whose trust policy does not name the caller, the root user, and unknown roles', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'private',
        AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/somebody-else' }),
      }),
    )
    const user = await userWithPolicy(
      c,
      'outsider',
      policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }),
    )
    const sts = stsClient(f.server.url, user)
    expect(
      (
        await sdkError(
          sts.send(
            new AssumeRoleCommand({
              RoleArn: 'arn:aws:iam::000000000000:role/private',
              RoleSessionName: 'session',
            }),
          ),
        )
      ).name,
    ).toBe('AccessDenied')
    expect(
      (
        await sdkError(
          sts.send(
            new AssumeRoleCommand({
              RoleArn: 'arn:aws:iam::000000000000:role/missing',
              RoleSessionName: 'session',
            }),
          ),
        )
      ).name,
    ).toBe('AccessDenied')
    const root = await sdkError(
      stsClient(f.server.url, f.server.credentials).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/private',
          RoleSessionName: 'session',
        }),
      ),
    )
    expect(root.name).toBe('AccessDenied')
  })

  it('applies a trust policy condition and an explicit deny in the trust policy', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'conditional',
        AssumeRolePolicyDocument: trust(
          { AWS: 'arn:aws:iam::000000000000:user/cond-user' },
          { Condition: { StringLike: { 'sts:RoleSessionName': 'ci-*' } } },
        ),
      }),
    )
    const user = await userWithPolicy(c, 'cond-user')
    const sts = stsClient(f.server.url, user)
    expect(
      (
        await sdkError(
          sts.send(
            new AssumeRoleCommand({
              RoleArn: 'arn:aws:iam::000000000000:role/conditional',
              RoleSessionName: 'laptop',
            }),
          ),
        )
      ).name,
    ).toBe('AccessDenied')
    await expectRoleSession(
      f.server.url,
      await sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/conditional',
          RoleSessionName: 'ci-7',
        }),
      ),
      'conditional',
      'ci-7',
    )
  })

  it('limits a session to what its session policy allows as well', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'wide',
        AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/narrow-user' }),
      }),
    )
    await c.send(
      new PutRolePolicyCommand({
        RoleName: 'wide',
        PolicyName: 'all',
        PolicyDocument: policy({
          Effect: 'Allow',
          Action: 'codestar-connections:*',
          Resource: '*',
        }),
      }),
    )
    const user = await userWithPolicy(c, 'narrow-user')
    const out = await stsClient(f.server.url, user).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/wide',
        RoleSessionName: 'narrow',
        Policy: policy({ Effect: 'Allow', Action: 'codestar-connections:List*', Resource: '*' }),
      }),
    )
    const sdk = sdkClient(f.server.url, {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    })
    const visible = (
      await sdkClient(f.server.url, f.server.credentials).send(
        new CreateConnectionCommand({ ConnectionName: 'narrow-visible', ProviderType: 'GitHub' }),
      )
    ).ConnectionArn
    expect(
      ((await sdk.send(new ListConnectionsCommand({}))).Connections ?? []).map(
        (x) => x.ConnectionArn,
      ),
    ).toContain(visible)
    const err = await sdkError(
      sdk.send(new CreateConnectionCommand({ ConnectionName: 'nope', ProviderType: 'GitHub' })),
    )
    expect(err.name).toBe('AccessDeniedException')
    expect(err.message).toMatch(/no session policy allows/)
  })

  it('refuses DurationSeconds above the role maximum and ends sessions with the role', async () => {
    const c = iam()
    await c.send(
      new CreateRoleCommand({
        RoleName: 'brief',
        AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/brief-user' }),
      }),
    )
    await c.send(
      new PutRolePolicyCommand({
        RoleName: 'brief',
        PolicyName: 'p',
        PolicyDocument: pipelinePolicy,
      }),
    )
    const user = await userWithPolicy(c, 'brief-user')
    const sts = stsClient(f.server.url, user)
    const long = await sdkError(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/brief',
          RoleSessionName: 'session',
          DurationSeconds: 7200,
        }),
      ),
    )
    expect(long.name).toBe('ValidationError')
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/brief',
        RoleSessionName: 'session',
      }),
    )
    await c.send(new DeleteRolePolicyCommand({ RoleName: 'brief', PolicyName: 'p' }))
    await c.send(new DeleteRoleCommand({ RoleName: 'brief' }))
    expect(await f.server.store.accessKeys.get(out.Credentials!.AccessKeyId!)).toBeUndefined()
  })
})
