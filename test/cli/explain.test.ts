import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { iamClient, policy, userWithPolicy } from '../helpers/iam.js'
import { runBin } from '../helpers/process.js'

describe('junction iam explain', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite')
    await userWithPolicy(
      iamClient(server.url, server.credentials),
      'alice',
      policy(
        {
          Sid: 'CreateBitbucket',
          Effect: 'Allow',
          Action: 'codestar-connections:CreateConnection',
          Resource: '*',
          Condition: { StringEquals: { 'codestar-connections:ProviderType': 'Bitbucket' } },
        },
        { Sid: 'NoDelete', Effect: 'Deny', Action: 'codestar-connections:Delete*', Resource: '*' },
      ),
    )
  })
  afterAll(async () => server?.stop())

  const explain = (...args: string[]) =>
    runBin([
      'iam',
      'explain',
      '--data-dir',
      server.dataDir,
      '--endpoint-url',
      server.url,
      '--principal',
      'arn:aws:iam::000000000000:user/alice',
      ...args,
    ])

  it('shows the decision and why each statement matched or not', async () => {
    const r = await explain(
      '--action',
      'codestar-connections:CreateConnection',
      '--action',
      'codestar-connections:DeleteConnection',
      '--context',
      'codestar-connections:ProviderType=GitHub',
    )
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe('codestar-connections:CreateConnection on *: implicitDeny')
    expect(r.stdout).toContain(
      'no match: Allow statement CreateBitbucket of inline policy test of user alice: Action ["codestar-connections:CreateConnection"] covers codestar-connections:CreateConnection; Resource ["*"] covers *; condition fails: StringEquals codestar-connections:ProviderType: request has ["GitHub"], policy wants ["Bitbucket"]',
    )
    expect(r.stdout).toContain('codestar-connections:DeleteConnection on *: explicitDeny')
    expect(r.stdout).toMatch(
      /MATCHED: Deny statement NoDelete of inline policy test of user alice: Action \["codestar-connections:Delete\*"\] covers codestar-connections:DeleteConnection/,
    )
  })

  it('says which context keys are missing', async () => {
    const r = await explain('--action', 'codestar-connections:CreateConnection')
    expect(r.stdout).toContain(
      'context keys the policies read but the request lacks: codestar-connections:ProviderType',
    )
    expect(r.stdout).toContain('(the key is absent from the request)')
  })

  it('reports an unknown principal and bad usage', async () => {
    const r = await runBin([
      'iam',
      'explain',
      '--data-dir',
      server.dataDir,
      '--endpoint-url',
      server.url,
      '--principal',
      'arn:aws:iam::000000000000:user/ghost',
      '--action',
      'codestar-connections:GetConnection',
    ])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^NoSuchEntity: The user with name ghost cannot be found/)
    expect((await runBin(['iam', 'explain'])).code).toBe(2)
  })

  it("decides for the principal's real ARN, path included, and says so", async () => {
    const iam = iamClient(server.url, server.credentials)
    await iam.send(new CreateUserCommand({ UserName: 'pathed', Path: '/admins/' }))
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'pathed',
        PolicyName: 'self',
        PolicyDocument: policy({
          Effect: 'Allow',
          Action: 'iam:GetUser',
          Resource: 'arn:aws:iam::000000000000:user/*',
          Condition: {
            StringEquals: { 'aws:PrincipalArn': 'arn:aws:iam::000000000000:user/admins/pathed' },
          },
        }),
      }),
    )
    for (const principal of [
      'arn:aws:iam::000000000000:user/pathed',
      'arn:aws:iam::000000000000:user/admins/pathed',
    ]) {
      const r = await runBin([
        'iam',
        'explain',
        '--data-dir',
        server.dataDir,
        '--endpoint-url',
        server.url,
        '--principal',
        principal,
        '--action',
        'iam:GetUser',
        '--resource',
        'arn:aws:iam::000000000000:user/admins/pathed',
      ])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(
        'iam:GetUser on arn:aws:iam::000000000000:user/admins/pathed: allowed',
      )
      expect(r.stdout).toContain('(decided for arn:aws:iam::000000000000:user/admins/pathed)')
    }
  })
})
