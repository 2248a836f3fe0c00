/**
 * Every connections API call is authorized by the evaluator, with the action named after the
 * resource's ARN prefix and the condition keys of spec §6.
 */
import { expect, it } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import { PutUserPolicyCommand, DeleteUserPolicyCommand } from '@aws-sdk/client-iam'
import {
  CreateConnectionCommand,
  CreateHostCommand,
  DeleteConnectionCommand,
  GetConnectionCommand,
  ListConnectionsCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-codestar-connections'
import { describeApi, expectAwsError, sdkError } from '../helpers/api.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { iamClient, policy, userWithPolicy } from '../helpers/iam.js'
import { startTestServer } from '../helpers/server.js'
import { freshPgSchema } from '../helpers/engines.js'

const CONNECTION_ARN =
  /^arn:aws:codestar-connections:[a-z0-9-]+:000000000000:connection\/[0-9a-f-]{36}$/

describeApi('Authorization of the connections API', (f) => {
  const root = () => sdkClient(f.server.url, f.server.credentials)
  const iam = () => iamClient(f.server.url, f.server.credentials)
  const create = async (
    name: string,
    providerType: 'GitHub' | 'Bitbucket' = 'GitHub',
    tags?: { Key: string; Value: string }[],
  ) =>
    (
      await root().send(
        new CreateConnectionCommand({
          ConnectionName: name,
          ProviderType: providerType,
          Tags: tags,
        }),
      )
    ).ConnectionArn!

  it('lets the root do everything (no policy needed)', async () => {
    const arn = await create('root-made')
    expect(arn).toMatch(CONNECTION_ARN)
    expect(
      (await root().send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection,
    ).toMatchObject({
      ConnectionArn: arn,
      ConnectionName: 'root-made',
      ProviderType: 'GitHub',
      OwnerAccountId: '000000000000',
    })
  })

  it('denies a user without policies, in AWS words', async () => {
    const creds = await userWithPolicy(iam(), 'nobody-allowed')
    const err = await sdkError(sdkClient(f.server.url, creds).send(new ListConnectionsCommand({})))
    expect(err.name).toBe('AccessDeniedException')
    expect(err.message).toBe(
      'User: arn:aws:iam::000000000000:user/nobody-allowed is not authorized to perform: codestar-connections:ListConnections on resource: * because no identity-based policy allows the codestar-connections:ListConnections action',
    )
  })

  it('names the policy and statement of an explicit deny', async () => {
    const creds = await userWithPolicy(
      iam(),
      'denied-delete',
      policy(
        { Effect: 'Allow', Action: 'codestar-connections:*', Resource: '*' },
        {
          Sid: 'NeverDelete',
          Effect: 'Deny',
          Action: 'codestar-connections:DeleteConnection',
          Resource: '*',
        },
      ),
    )
    const arn = await create('keep-me')
    const err = await sdkError(
      sdkClient(f.server.url, creds).send(new DeleteConnectionCommand({ ConnectionArn: arn })),
    )
    expect(err.message).toBe(
      `User: arn:aws:iam::000000000000:user/denied-delete is not authorized to perform: codestar-connections:DeleteConnection on resource: ${arn} with an explicit deny in an identity-based policy: test (statement NeverDelete)`,
    )
    // Still there.
    expect(
      (await root().send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection
        ?.ConnectionArn,
    ).toBe(arn)
  })

  it('governs codestar-connections ARNs with codestar-connections:* and codeconnections ARNs with codeconnections:*', async () => {
    const creds = await userWithPolicy(
      iam(),
      'old-prefix',
      policy({ Effect: 'Allow', Action: 'codestar-connections:GetConnection', Resource: '*' }),
    )
    const oldArn = await create('old-arn')
    const res = await f.raw.call({
      service: 'codeconnections',
      operation: 'CreateConnection',
      body: { ConnectionName: 'new-arn', ProviderType: 'GitHub' },
    })
    const newArn = res.json['ConnectionArn'] as string
    const raw = new RawClient(f.server.url, creds)
    // The action follows the resource, whichever endpoint is called.
    expect(
      (
        await raw.call({
          service: 'codeconnections',
          operation: 'GetConnection',
          body: { ConnectionArn: oldArn },
        })
      ).status,
    ).toBe(200)
    const denied = await raw.call({
      service: 'codestar-connections',
      operation: 'GetConnection',
      body: { ConnectionArn: newArn },
    })
    expectAwsError(denied, 'AccessDeniedException', 400, /codeconnections:GetConnection/)
  })

  it('evaluates ProviderType and aws:RequestTag on CreateConnection, and requires TagResource for tags', async () => {
    const c = iam()
    const creds = await userWithPolicy(
      c,
      'payments-dev',
      policy({
        Effect: 'Allow',
        Action: 'codestar-connections:CreateConnection',
        Resource: '*',
        Condition: {
          StringEquals: {
            'codestar-connections:ProviderType': 'Bitbucket',
            'aws:RequestTag/team': 'payments',
          },
        },
      }),
    )
    const sdk = sdkClient(f.server.url, creds)
    const tagged = [{ Key: 'team', Value: 'payments' }]
    // Allowed to create, but not to tag: TagResource is needed as well.
    const noTag = await sdkError(
      sdk.send(
        new CreateConnectionCommand({
          ConnectionName: 'p1',
          ProviderType: 'Bitbucket',
          Tags: tagged,
        }),
      ),
    )
    expect(noTag.message).toMatch(/codestar-connections:TagResource/)
    await c.send(
      new PutUserPolicyCommand({
        UserName: 'payments-dev',
        PolicyName: 'tagging',
        PolicyDocument: policy({
          Effect: 'Allow',
          Action: 'codestar-connections:TagResource',
          Resource: '*',
          Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
        }),
      }),
    )
    const p1 = (
      await sdk.send(
        new CreateConnectionCommand({
          ConnectionName: 'p1',
          ProviderType: 'Bitbucket',
          Tags: tagged,
        }),
      )
    ).ConnectionArn!
    expect(p1).toMatch(CONNECTION_ARN)
    const made = (await root().send(new GetConnectionCommand({ ConnectionArn: p1 }))).Connection
    expect(made).toMatchObject({ ConnectionName: 'p1', ProviderType: 'Bitbucket' })
    expect(
      (
        await sdkError(
          sdk.send(
            new CreateConnectionCommand({
              ConnectionName: 'p2',
              ProviderType: 'GitHub',
              Tags: tagged,
            }),
          ),
        )
      ).name,
    ).toBe('AccessDeniedException')
    expect(
      (
        await sdkError(
          sdk.send(
            new CreateConnectionCommand({
              ConnectionName: 'p3',
              ProviderType: 'Bitbucket',
              Tags: [{ Key: 'team', Value: 'search' }],
            }),
          ),
        )
      ).name,
    ).toBe('AccessDeniedException')
    expect(
      (
        await sdkError(
          sdk.send(
            new CreateConnectionCommand({ ConnectionName: 'p4', ProviderType: 'Bitbucket' }),
          ),
        )
      ).name,
    ).toBe('AccessDeniedException')
    // Nothing was created by the denied calls.
    const names = (await root().send(new ListConnectionsCommand({}))).Connections!.map(
      (x) => x.ConnectionName,
    )
    expect(names.filter((n) => /^p\d$/.test(n!))).toEqual(['p1'])
  })

  it('evaluates aws:ResourceTag against the resource’s tags', async () => {
    const mine = await create('team-mine', 'GitHub', [{ Key: 'team', Value: 'payments' }])
    const theirs = await create('team-theirs', 'GitHub', [{ Key: 'team', Value: 'search' }])
    const creds = await userWithPolicy(
      iam(),
      'tag-reader',
      policy({
        Effect: 'Allow',
        Action: ['codestar-connections:GetConnection', 'codestar-connections:UntagResource'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:ResourceTag/team': 'payments' } },
      }),
    )
    const sdk = sdkClient(f.server.url, creds)
    expect(
      (await sdk.send(new GetConnectionCommand({ ConnectionArn: mine }))).Connection
        ?.ConnectionName,
    ).toBe('team-mine')
    expect(
      (await sdkError(sdk.send(new GetConnectionCommand({ ConnectionArn: theirs })))).name,
    ).toBe('AccessDeniedException')
    // Once the tag is gone, so is the access.
    await sdk.send(new UntagResourceCommand({ ResourceArn: mine, TagKeys: ['team'] }))
    expect((await sdkError(sdk.send(new GetConnectionCommand({ ConnectionArn: mine })))).name).toBe(
      'AccessDeniedException',
    )
  })

  it('evaluates ProviderTypeFilter on ListConnections and VpcId on CreateHost', async () => {
    const creds = await userWithPolicy(
      iam(),
      'filtered',
      policy(
        {
          Effect: 'Allow',
          Action: 'codestar-connections:ListConnections',
          Resource: '*',
          Condition: { StringEquals: { 'codestar-connections:ProviderTypeFilter': 'Bitbucket' } },
        },
        {
          Effect: 'Allow',
          Action: 'codestar-connections:CreateHost',
          Resource: '*',
          Condition: { StringEquals: { 'codestar-connections:VpcId': 'vpc-12345678' } },
        },
      ),
    )
    const bitbucket = await create('filtered-bitbucket', 'Bitbucket')
    await create('filtered-github', 'GitHub')
    const sdk = sdkClient(f.server.url, creds)
    const listed =
      (await sdk.send(new ListConnectionsCommand({ ProviderTypeFilter: 'Bitbucket' })))
        .Connections ?? []
    expect(listed.map((c) => c.ConnectionArn)).toContain(bitbucket)
    expect(listed.map((c) => c.ConnectionName)).not.toContain('filtered-github')
    expect(new Set(listed.map((c) => c.ProviderType))).toEqual(new Set(['Bitbucket']))
    expect((await sdkError(sdk.send(new ListConnectionsCommand({})))).name).toBe(
      'AccessDeniedException',
    )
    const vpc = {
      VpcId: 'vpc-12345678',
      SubnetIds: ['subnet-12345678'],
      SecurityGroupIds: ['sg-12345678'],
    }
    const host = {
      Name: 'h',
      ProviderType: 'GitHubEnterpriseServer' as const,
      ProviderEndpoint: 'https://ghes.example.com',
    }
    expect(
      (await sdk.send(new CreateHostCommand({ ...host, VpcConfiguration: vpc }))).HostArn,
    ).toMatch(/^arn:aws:codestar-connections:[a-z0-9-]+:000000000000:host\/h-[0-9a-f]{8}$/)
    expect((await sdkError(sdk.send(new CreateHostCommand(host)))).name).toBe(
      'AccessDeniedException',
    )
  })

  it('evaluates aws:SourceIp, aws:username and policy variables', async () => {
    const creds = await userWithPolicy(
      iam(),
      'variable-user',
      policy({
        Effect: 'Allow',
        Action: 'codestar-connections:TagResource',
        Resource: '*',
        Condition: {
          IpAddress: { 'aws:SourceIp': '127.0.0.0/8' },
          StringEquals: { 'aws:RequestTag/owner': '${aws:username}' },
        },
      }),
    )
    const arn = await create('var-target')
    const sdk = sdkClient(f.server.url, creds)
    await sdk.send(
      new TagResourceCommand({
        ResourceArn: arn,
        Tags: [{ Key: 'owner', Value: 'variable-user' }],
      }),
    )
    expect(
      (
        await sdkError(
          sdk.send(
            new TagResourceCommand({
              ResourceArn: arn,
              Tags: [{ Key: 'owner', Value: 'someone-else' }],
            }),
          ),
        )
      ).name,
    ).toBe('AccessDeniedException')
  })

  it('applies a policy change to the next call', async () => {
    const c = iam()
    const creds = await userWithPolicy(
      c,
      'changing',
      policy({ Effect: 'Allow', Action: 'codestar-connections:ListConnections', Resource: '*' }),
    )
    const listedArn = await create('listed-while-allowed')
    const sdk = sdkClient(f.server.url, creds)
    expect(
      ((await sdk.send(new ListConnectionsCommand({}))).Connections ?? []).map(
        (x) => x.ConnectionArn,
      ),
    ).toContain(listedArn)
    await c.send(new DeleteUserPolicyCommand({ UserName: 'changing', PolicyName: 'test' }))
    expect((await sdkError(sdk.send(new ListConnectionsCommand({})))).name).toBe(
      'AccessDeniedException',
    )
  })
})

describeWith(needs.postgres)('Policy caches across nodes sharing PostgreSQL', () => {
  it('sees a policy change made on another node within a second or two', async () => {
    const schema = freshPgSchema()
    const env = { JUNCTION_MASTER_KEY: 'ab'.repeat(32) }
    const a = await startTestServer('postgres', { database: schema.url }, env)
    const b = await startTestServer(
      'postgres',
      { database: schema.url },
      {
        ...env,
        JUNCTION_ROOT_ACCESS_KEY_ID: a.credentials.accessKeyId,
        JUNCTION_ROOT_SECRET_ACCESS_KEY: a.credentials.secretAccessKey,
      },
    )
    try {
      const iamA = iamClient(a.url, a.credentials)
      const creds = await userWithPolicy(
        iamA,
        'roamer',
        policy({ Effect: 'Allow', Action: 'codestar-connections:ListConnections', Resource: '*' }),
      )
      const made = (
        await sdkClient(a.url, a.credentials).send(
          new CreateConnectionCommand({ ConnectionName: 'made-on-a', ProviderType: 'GitHub' }),
        )
      ).ConnectionArn
      const onB = sdkClient(b.url, creds)
      expect(
        ((await onB.send(new ListConnectionsCommand({}))).Connections ?? []).map(
          (x) => x.ConnectionArn,
        ),
      ).toEqual([made])
      await iamA.send(new DeleteUserPolicyCommand({ UserName: 'roamer', PolicyName: 'test' }))
      let denied = false
      for (let i = 0; i < 40 && !denied; i++) {
        await new Promise((r) => setTimeout(r, 100))
        denied = await onB.send(new ListConnectionsCommand({})).then(
          () => false,
          () => true,
        )
      }
      expect(denied).toBe(true)
    } finally {
      await b.stop()
      await a.close()
      await schema.drop()
    }
  })
})
