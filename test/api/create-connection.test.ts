import { describe, expect, it } from 'vitest'
import {
  CreateConnectionCommand,
  CreateHostCommand,
  GetConnectionCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-codestar-connections'
import {
  authorizationCases,
  describeApi,
  expectAwsError,
  sdkError,
  uniqueName,
} from '../helpers/api.js'

const ARN_RE =
  /^arn:aws:(codestar-connections|codeconnections):us-east-1:000000000000:connection\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describeApi('CreateConnection', (f) => {
  const count = async () =>
    (await f.server.store.connections.list('000000000000', {}, 0, 1000)).length

  describe('serialization', () => {
    it('returns SerializationException when ConnectionName is a number', async () => {
      const before = await count()
      const res = await f.raw.call({
        operation: 'CreateConnection',
        body: { ConnectionName: 42, ProviderType: 'GitHub' },
      })
      expectAwsError(res, 'SerializationException', 400, /connectionName/)
      expect(await count()).toBe(before)
    })
    it('returns SerializationException when Tags is an object instead of a list', async () => {
      const res = await f.raw.call({
        operation: 'CreateConnection',
        body: { ConnectionName: 'x', ProviderType: 'GitHub', Tags: { a: 1 } },
      })
      expectAwsError(res, 'SerializationException', 400)
    })
    it('returns SerializationException for a body that is not JSON', async () => {
      const res = await f.raw.call({
        operation: 'CreateConnection',
        rawBody: '{"ConnectionName": ',
      })
      expectAwsError(res, 'SerializationException', 400)
    })
    it('ignores members the model does not know', async () => {
      const res = await f.raw.call({
        operation: 'CreateConnection',
        body: { ConnectionName: uniqueName(), ProviderType: 'GitHub', Surprise: true },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.0')
    })
  })

  describe('validation', () => {
    it('returns ValidationException naming connectionName when it is missing', async () => {
      const res = await f.raw.call({
        operation: 'CreateConnection',
        body: { ProviderType: 'GitHub' },
      })
      expectAwsError(
        res,
        'ValidationException',
        400,
        "1 validation error detected: Value null at 'connectionName' failed to satisfy constraint: Member must not be null",
      )
    })
    it('returns ValidationException for a 33-character name', async () => {
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({ ConnectionName: 'n'.repeat(33), ProviderType: 'GitHub' }),
        ),
      )
      expect(err.name).toBe('ValidationException')
      expect(err.message).toBe(
        `1 validation error detected: Value '${'n'.repeat(33)}' at 'connectionName' failed to satisfy constraint: Member must have length less than or equal to 32`,
      )
    })
    it('counts several validation errors in one message', async () => {
      const res = await f.raw.call({
        operation: 'CreateConnection',
        body: { ConnectionName: '', ProviderType: 'Gitea' },
      })
      expectAwsError(
        res,
        'ValidationException',
        400,
        /^2 validation errors detected: Value .*; Value /,
      )
      expect(res.json.Message).toContain(
        "Value '' at 'connectionName' failed to satisfy constraint: Member must have length greater than or equal to 1",
      )
      expect(res.json.Message).toContain(
        "Value 'Gitea' at 'providerType' failed to satisfy constraint: Member must satisfy enum value set: [Bitbucket, GitHub, GitHubEnterpriseServer, GitLab, GitLabSelfManaged, AzureDevOps]",
      )
    })
    it('checks the codestar-connections enum on that endpoint (no AzureDevOps)', async () => {
      const res = await f.raw.call({
        service: 'codestar-connections',
        operation: 'CreateConnection',
        body: { ConnectionName: uniqueName(), ProviderType: 'AzureDevOps' },
      })
      expectAwsError(res, 'ValidationException', 400, /providerType/)
    })
    it('requires ProviderType or HostArn', async () => {
      const err = await sdkError(
        f.sdk.send(new CreateConnectionCommand({ ConnectionName: uniqueName() })),
      )
      expect(err.name).toBe('ValidationException')
    })
    it('requires a host for GitHubEnterpriseServer', async () => {
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({
            ConnectionName: uniqueName(),
            ProviderType: 'GitHubEnterpriseServer',
          }),
        ),
      )
      expect(err.name).toBe('ValidationException')
      expect(err.message).toMatch(/HostArn is required/)
    })
    it('refuses tag keys reserved for AWS', async () => {
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({
            ConnectionName: uniqueName(),
            ProviderType: 'GitHub',
            Tags: [{ Key: 'aws:owner', Value: 'x' }],
          }),
        ),
      )
      expect(err.name).toBe('ValidationException')
    })
    it('refuses a duplicate name in the account', async () => {
      const name = uniqueName()
      await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: name, ProviderType: 'GitHub' }),
      )
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({ ConnectionName: name, ProviderType: 'Bitbucket' }),
        ),
      )
      expect(err.name).toBe('ValidationException')
      expect(err.message).toMatch(/already exists/)
    })
  })

  describe('authorization', () => {
    let before = 0
    authorizationCases(
      f,
      'CreateConnection',
      () => ({ ConnectionName: uniqueName(), ProviderType: 'GitHub' }),
      async () => {
        const now = await count()
        if (before === 0) before = now
        expect(now).toBe(before)
      },
    )
  })

  describe('functionality', () => {
    it('creates a PENDING connection with a codestar-connections ARN through the SDK', async () => {
      const name = uniqueName()
      const out = await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: name, ProviderType: 'Bitbucket' }),
      )
      expect(out.ConnectionArn).toMatch(ARN_RE)
      expect(out.ConnectionArn).toContain(':codestar-connections:')
      expect(out.Tags).toBeUndefined()
      const got = await f.sdk.send(new GetConnectionCommand({ ConnectionArn: out.ConnectionArn }))
      expect(got.Connection).toEqual({
        ConnectionName: name,
        ConnectionArn: out.ConnectionArn,
        ProviderType: 'Bitbucket',
        OwnerAccountId: '000000000000',
        ConnectionStatus: 'PENDING',
      })
    })
    it('gives codeconnections ARNs to connections created through that endpoint', async () => {
      const res = await f.raw.call({
        service: 'codeconnections',
        operation: 'CreateConnection',
        body: { ConnectionName: uniqueName(), ProviderType: 'GitLab' },
      })
      expect(res.status).toBe(200)
      expect(res.json['ConnectionArn']).toMatch(
        /^arn:aws:codeconnections:us-east-1:000000000000:connection\//,
      )
    })
    it('echoes and stores tags', async () => {
      const tags = [
        { Key: 'team', Value: 'platform' },
        { Key: 'empty', Value: '' },
      ]
      const out = await f.sdk.send(
        new CreateConnectionCommand({
          ConnectionName: uniqueName(),
          ProviderType: 'GitHub',
          Tags: tags,
        }),
      )
      expect(out.Tags).toEqual(tags)
      const listed = await f.sdk.send(
        new ListTagsForResourceCommand({ ResourceArn: out.ConnectionArn }),
      )
      expect(listed.Tags).toEqual([
        { Key: 'empty', Value: '' },
        { Key: 'team', Value: 'platform' },
      ])
    })
    it('refuses more than 50 tags with LimitExceededException', async () => {
      const tags = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({
            ConnectionName: uniqueName(),
            ProviderType: 'GitHub',
            Tags: tags,
          }),
        ),
      )
      expect(err.name).toBe('LimitExceededException')
    })
    it('never issues the same id twice', async () => {
      const arns = new Set<string>()
      for (let i = 0; i < 20; i++) {
        const out = await f.sdk.send(
          new CreateConnectionCommand({ ConnectionName: uniqueName(), ProviderType: 'GitHub' }),
        )
        arns.add(out.ConnectionArn!.split('/')[1]!)
      }
      expect(arns.size).toBe(20)
    })
    it('takes the provider type from the host and records HostArn', async () => {
      const host = await f.sdk.send(
        new CreateHostCommand({
          Name: 'ghes',
          ProviderType: 'GitHubEnterpriseServer',
          ProviderEndpoint: 'https://ghes.example.com',
        }),
      )
      const out = await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: uniqueName(), HostArn: host.HostArn }),
      )
      const got = await f.sdk.send(new GetConnectionCommand({ ConnectionArn: out.ConnectionArn }))
      expect(got.Connection?.ProviderType).toBe('GitHubEnterpriseServer')
      expect(got.Connection?.HostArn).toBe(host.HostArn)
    })
    it('refuses a ProviderType that contradicts the host', async () => {
      const host = await f.sdk.send(
        new CreateHostCommand({
          Name: 'gl',
          ProviderType: 'GitLabSelfManaged',
          ProviderEndpoint: 'https://gitlab.example.com',
        }),
      )
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({
            ConnectionName: uniqueName(),
            HostArn: host.HostArn,
            ProviderType: 'GitHubEnterpriseServer',
          }),
        ),
      )
      expect(err.name).toBe('ValidationException')
    })
    it('returns ResourceNotFoundException for an unknown host', async () => {
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({
            ConnectionName: uniqueName(),
            HostArn: 'arn:aws:codestar-connections:us-east-1:000000000000:host/nope-00000000',
          }),
        ),
      )
      expect(err.name).toBe('ResourceNotFoundException')
    })
    it('returns ResourceUnavailableException while the host is VPC_CONFIG_INITIALIZING', async () => {
      const host = await f.sdk.send(
        new CreateHostCommand({
          Name: 'vpc',
          ProviderType: 'GitHubEnterpriseServer',
          ProviderEndpoint: 'https://ghes.internal',
          VpcConfiguration: {
            VpcId: 'vpc-12345678',
            SubnetIds: ['subnet-12345678'],
            SecurityGroupIds: ['sg-12345678'],
          },
        }),
      )
      const err = await sdkError(
        f.sdk.send(
          new CreateConnectionCommand({ ConnectionName: uniqueName(), HostArn: host.HostArn }),
        ),
      )
      expect(err.name).toBe('ResourceUnavailableException')
    })
  })
})

describeApi(
  'CreateConnection quota',
  (f) => {
    it('returns LimitExceededException past --connection-quota and frees a slot on delete', async () => {
      const arns: string[] = []
      for (let i = 0; i < 3; i++)
        arns.push(
          (
            await f.sdk.send(
              new CreateConnectionCommand({ ConnectionName: `q${i}`, ProviderType: 'GitHub' }),
            )
          ).ConnectionArn!,
        )
      const err = await sdkError(
        f.sdk.send(new CreateConnectionCommand({ ConnectionName: 'q3', ProviderType: 'GitHub' })),
      )
      expect(err.name).toBe('LimitExceededException')
      expect(err.$metadata.httpStatusCode).toBe(400)
      const res = await f.raw.call({
        operation: 'DeleteConnection',
        body: { ConnectionArn: arns[0] },
      })
      expect(res.status).toBe(200)
      await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: 'q3', ProviderType: 'GitHub' }),
      )
    })
    it('holds the quota under concurrent creates', async () => {
      // The previous test left the account at its quota of 3; free one slot and race for it.
      const list = await f.server.store.connections.list('000000000000', {}, 0, 10)
      await f.raw.call({ operation: 'DeleteConnection', body: { ConnectionArn: list[0]!.arn } })
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          f.raw.call({
            operation: 'CreateConnection',
            body: { ConnectionName: `race${i}`, ProviderType: 'GitHub' },
          }),
        ),
      )
      expect(results.filter((r) => r.status === 200)).toHaveLength(1)
      expect(results.filter((r) => r.json.__type === 'LimitExceededException')).toHaveLength(7)
      expect(await f.server.store.connections.list('000000000000', {}, 0, 10)).toHaveLength(3)
    })
  },
  { 'connection-quota': '3' },
)
