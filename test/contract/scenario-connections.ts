/**
 * The connections part of the API-surface contract (api-surface.test.ts): hosts and connections
 * on one endpoint through the SDK, every operation answered and refused; and Junction's own
 * operations on a completed connection.
 */
import {
  CreateConnectionCommand,
  CreateHostCommand,
  DeleteConnectionCommand,
  DeleteHostCommand,
  GetConnectionCommand,
  GetHostCommand,
  ListConnectionsCommand,
  ListHostsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateHostCommand,
} from '@aws-sdk/client-codestar-connections'
import { expect } from 'vitest'
import { sdkError } from '../helpers/api.js'
import { completeWithToken, ext } from '../helpers/connect.js'
import type { Surface } from '../helpers/contract.js'

const ACCOUNT = '000000000000'

/** The call fails with `code` (the contract has checked the code against the model). */
export async function fails(p: Promise<unknown>, code: string): Promise<void> {
  expect((await sdkError(p)).name).toBe(code)
}

export async function connectionsScenario(
  s: Surface,
  api: 'codestar-connections' | 'codeconnections',
): Promise<void> {
  const sdk = s.clients[api]
  const { c, f } = s
  const n = api === 'codestar-connections' ? 'cs' : 'cc'
  const noConnection = `arn:aws:${api}:us-east-1:${ACCOUNT}:connection/00000000-0000-4000-8000-000000000000`
  const noHost = `arn:aws:${api}:us-east-1:${ACCOUNT}:host/missing-0000abcd`
  const tags = [{ Key: 'team', Value: 'web' }]

  // Hosts: one PENDING, one that stays VPC_CONFIG_INITIALIZING.
  const host = await sdk.send(
    new CreateHostCommand({
      Name: `${n}-ghes`,
      ProviderType: 'GitHubEnterpriseServer',
      ProviderEndpoint: 'https://ghes.example.com',
      Tags: tags,
    }),
  )
  const vpcHost = await sdk.send(
    new CreateHostCommand({
      Name: `${n}-vpc`,
      ProviderType: 'GitLabSelfManaged',
      ProviderEndpoint: 'https://gitlab.example.com',
      VpcConfiguration: {
        VpcId: 'vpc-12345678',
        SubnetIds: ['subnet-12345678'],
        SecurityGroupIds: ['sg-12345678'],
        TlsCertificate: 'CERT',
      },
    }),
  )
  await sdk.send(new GetHostCommand({ HostArn: host.HostArn }))
  expect((await sdk.send(new GetHostCommand({ HostArn: vpcHost.HostArn }))).Status).toBe(
    'VPC_CONFIG_INITIALIZING',
  )
  const hosts = await sdk.send(new ListHostsCommand({ MaxResults: 1 }))
  expect(hosts.NextToken).toBeDefined()
  await sdk.send(new ListHostsCommand({ MaxResults: 1, NextToken: hosts.NextToken }))
  await sdk.send(new ListHostsCommand({}))
  await sdk.send(
    new UpdateHostCommand({ HostArn: host.HostArn, ProviderEndpoint: 'https://ghes2.example.com' }),
  )

  // Connections: an AVAILABLE Bitbucket one, a PENDING GitHub one, one on the host.
  const bb = await sdk.send(
    new CreateConnectionCommand({
      ProviderType: 'Bitbucket',
      ConnectionName: `${n}-bitbucket`,
      Tags: tags,
    }),
  )
  expect((await completeWithToken(f, bb.ConnectionArn!)).status).toBe(200)
  const gh = await sdk.send(
    new CreateConnectionCommand({ ProviderType: 'GitHub', ConnectionName: `${n}-github` }),
  )
  const onHost = await sdk.send(
    new CreateConnectionCommand({ HostArn: host.HostArn, ConnectionName: `${n}-on-host` }),
  )
  const got = await sdk.send(new GetConnectionCommand({ ConnectionArn: bb.ConnectionArn }))
  expect(got.Connection!.ConnectionStatus).toBe('AVAILABLE')
  await sdk.send(new GetConnectionCommand({ ConnectionArn: onHost.ConnectionArn }))
  await sdk.send(new ListConnectionsCommand({}))
  const page = await sdk.send(
    new ListConnectionsCommand({ ProviderTypeFilter: 'Bitbucket', MaxResults: 1 }),
  )
  await sdk.send(
    new ListConnectionsCommand({
      ProviderTypeFilter: 'Bitbucket',
      MaxResults: 1,
      ...(page.NextToken ? { NextToken: page.NextToken } : {}),
    }),
  )
  await sdk.send(new ListConnectionsCommand({ HostArnFilter: host.HostArn }))
  for (const arn of [bb.ConnectionArn!, host.HostArn!]) {
    await sdk.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'env', Value: '' }] }))
    await sdk.send(new ListTagsForResourceCommand({ ResourceArn: arn }))
    await sdk.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['env'] }))
  }

  // Bad calls: validation, not found, wrong state.
  const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))
  await fails(
    sdk.send(
      new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'x'.repeat(33) }),
    ),
    'ValidationException',
  )
  await fails(
    sdk.send(new CreateConnectionCommand({ HostArn: noHost, ConnectionName: `${n}-x` })),
    'ResourceNotFoundException',
  )
  await fails(
    sdk.send(new CreateConnectionCommand({ HostArn: vpcHost.HostArn, ConnectionName: `${n}-y` })),
    'ResourceUnavailableException',
  )
  await fails(
    sdk.send(new GetConnectionCommand({ ConnectionArn: noConnection })),
    'ResourceNotFoundException',
  )
  await fails(
    sdk.send(new GetConnectionCommand({ ConnectionArn: 'not-an-arn' })),
    'ValidationException',
  )
  await fails(sdk.send(new ListConnectionsCommand({ MaxResults: 101 })), 'ValidationException')
  await fails(
    sdk.send(new DeleteConnectionCommand({ ConnectionArn: noConnection })),
    'ResourceNotFoundException',
  )
  await fails(
    sdk.send(
      new CreateHostCommand({
        Name: `${n}-bad`,
        ProviderType: 'GitHubEnterpriseServer',
        ProviderEndpoint: 'ghes.example.com',
      }),
    ),
    'ValidationException',
  )
  await fails(sdk.send(new GetHostCommand({ HostArn: noHost })), 'ResourceNotFoundException')
  await fails(sdk.send(new ListHostsCommand({ MaxResults: 101 })), 'ValidationException')
  await fails(
    sdk.send(
      new UpdateHostCommand({
        HostArn: vpcHost.HostArn,
        ProviderEndpoint: 'https://b.example.com',
      }),
    ),
    'ConflictException',
  )
  await fails(
    sdk.send(new UpdateHostCommand({ HostArn: noHost, ProviderEndpoint: 'https://b.example.com' })),
    'ResourceNotFoundException',
  )
  await fails(
    sdk.send(new DeleteHostCommand({ HostArn: host.HostArn })),
    'ResourceUnavailableException',
  )
  await fails(sdk.send(new DeleteHostCommand({ HostArn: noHost })), 'ResourceNotFoundException')
  await fails(
    sdk.send(new TagResourceCommand({ ResourceArn: noConnection, Tags: tags })),
    'ResourceNotFoundException',
  )
  await fails(
    sdk.send(new TagResourceCommand({ ResourceArn: bb.ConnectionArn, Tags: many })),
    'LimitExceededException',
  )
  await fails(
    sdk.send(new UntagResourceCommand({ ResourceArn: noHost, TagKeys: ['team'] })),
    'ResourceNotFoundException',
  )
  await fails(
    sdk.send(new ListTagsForResourceCommand({ ResourceArn: noHost })),
    'ResourceNotFoundException',
  )

  // Raw: authentication, a malformed body, the model's operations Junction does not implement,
  // and names outside the model (Junction's own operations included) under this service's target.
  const body = { ConnectionArn: bb.ConnectionArn }
  expect((await c.json(f.raw, api, 'GetConnection', body, { credentials: null })).code).toBe(
    'MissingAuthenticationTokenException',
  )
  const wrong = { accessKeyId: f.server.credentials.accessKeyId, secretAccessKey: 'wrong' }
  expect((await c.json(f.raw, api, 'GetConnection', body, { credentials: wrong })).code).toBe(
    'InvalidSignatureException',
  )
  const unknownKey = { accessKeyId: 'JKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' }
  expect((await c.json(f.raw, api, 'ListHosts', {}, { credentials: unknownKey })).code).toBe(
    'UnrecognizedClientException',
  )
  expect(
    (await c.json(f.raw, api, 'ListConnections', {}, { rawBody: '{"MaxResults":' })).code,
  ).toBe('SerializationException')
  for (const op of c.notImplemented[api]!.operations)
    expect((await c.json(f.raw, api, op, {})).code).toBe('UnsupportedOperationException')
  for (const op of ['CompleteConnection', 'DescribeConnection', 'GetConnectionToken', 'Nope'])
    expect((await c.json(f.raw, api, op, body)).code).toBe('UnknownOperationException')

  // Deleting what the scenario made (the host once its connection is gone).
  await sdk.send(new DeleteConnectionCommand({ ConnectionArn: onHost.ConnectionArn }))
  await sdk.send(new DeleteConnectionCommand({ ConnectionArn: gh.ConnectionArn }))
  await sdk.send(new DeleteHostCommand({ HostArn: host.HostArn }))
}

/**
 * Junction's own operations on a connection taken from PENDING to AVAILABLE, each answering 200;
 * returns their bodies. An unknown name under Junction's target is UnknownOperationException.
 */
export async function extensionScenario(s: Surface): Promise<[string, Record<string, unknown>][]> {
  const { f } = s
  const created = await s.clients['codestar-connections'].send(
    new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'junction-ops' }),
  )
  const arn = created.ConnectionArn!
  const repo = { ConnectionArn: arn, FullRepositoryId: 'acme/app' }
  const out: [string, Record<string, unknown>][] = []
  const call = async (op: string, body: Record<string, unknown>) => {
    const res = await ext(f, op, body)
    expect(res.status, `${op}: ${res.text}`).toBe(200)
    out.push([op, res.json])
    return res.json
  }
  await call('StartOAuthHandshake', { ConnectionArn: arn })
  const completed = await call('CompleteConnection', {
    ConnectionArn: arn,
    Workspace: 'acme',
    AccessToken: f.world.acmeToken,
  })
  const installation = (completed['Installation'] as { InstallationId: string }).InstallationId
  await call('UpdateConnectionInstallation', { ConnectionArn: arn, InstallationId: installation })
  await call('ListInstallations', { ProviderType: 'Bitbucket' })
  await call('DescribeConnection', { ConnectionArn: arn })
  await call('ListRepositories', { ConnectionArn: arn })
  await call('ListBranches', repo)
  await call('GetBranch', { ...repo, BranchName: 'main' })
  await call('GetCommit', { ...repo, CommitId: f.world.commits.second })
  await call('ListChangedFiles', { ...repo, CommitId: f.world.commits.second })
  await call('GetSourceArchiveUrl', { ...repo, CommitId: f.world.commits.second })
  await call('GetCloneCredentials', repo)
  const unknown = await ext(f, 'GetConnection', { ConnectionArn: arn })
  expect({ status: unknown.status, type: unknown.json.__type }).toEqual({
    status: 400,
    type: 'UnknownOperationException',
  })
  return out
}
