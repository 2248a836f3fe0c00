/**
 * Smoke test through the AWS CLI (botocore), an independent client: it sends the long
 * `com.amazonaws…` target form and reads the credentials file Junction writes.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { run, writeAwsConfig } from '../helpers/aws-cli.js'

// Every `aws` call starts Python (about a second): these cases run tens of them in a row.
vi.setConfig({ testTimeout: 120_000 })

describeWith(needs.aws)('AWS CLI', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite')
    writeAwsConfig(server)
  })
  afterAll(async () => server?.stop())

  const aws = async (...args: string[]) => {
    const { stdout } = await run(
      'aws',
      ['--profile', 'junction', '--endpoint-url', server.url, '--output', 'json', ...args],
      {
        env: {
          PATH: process.env['PATH'],
          HOME: process.env['HOME'],
          AWS_SHARED_CREDENTIALS_FILE: join(server.dataDir, 'credentials'),
          AWS_CONFIG_FILE: join(server.dataDir, 'aws-config'),
          AWS_PAGER: '',
        },
      },
    )
    return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {}
  }
  const awsError = async (...args: string[]) => {
    try {
      await aws(...args)
    } catch (err) {
      return (err as { stderr: string }).stderr
    }
    throw new Error('expected the aws command to fail')
  }

  it('manages connections, hosts and tags with `aws codestar-connections` using the credentials file as written', async () => {
    const created = await aws(
      'codestar-connections',
      'create-connection',
      '--connection-name',
      'cli-conn',
      '--provider-type',
      'Bitbucket',
      '--tags',
      'Key=team,Value=ci',
    )
    const arn = created['ConnectionArn'] as string
    expect(arn).toMatch(/^arn:aws:codestar-connections:us-east-1:000000000000:connection\//)
    expect(created['Tags']).toEqual([{ Key: 'team', Value: 'ci' }])
    expect(await aws('codestar-connections', 'get-connection', '--connection-arn', arn)).toEqual({
      Connection: {
        ConnectionName: 'cli-conn',
        ConnectionArn: arn,
        ProviderType: 'Bitbucket',
        OwnerAccountId: '000000000000',
        ConnectionStatus: 'PENDING',
      },
    })
    await aws(
      'codestar-connections',
      'tag-resource',
      '--resource-arn',
      arn,
      '--tags',
      'Key=env,Value=dev',
    )
    expect(
      (await aws('codestar-connections', 'list-tags-for-resource', '--resource-arn', arn))['Tags'],
    ).toEqual([
      { Key: 'env', Value: 'dev' },
      { Key: 'team', Value: 'ci' },
    ])
    await aws('codestar-connections', 'untag-resource', '--resource-arn', arn, '--tag-keys', 'env')
    const host = await aws(
      'codestar-connections',
      'create-host',
      '--name',
      'ghes',
      '--provider-type',
      'GitHubEnterpriseServer',
      '--provider-endpoint',
      'https://ghes.example.com',
    )
    const hostArn = host['HostArn'] as string
    expect((await aws('codestar-connections', 'get-host', '--host-arn', hostArn))['Status']).toBe(
      'PENDING',
    )
    expect(((await aws('codestar-connections', 'list-hosts'))['Hosts'] as unknown[]).length).toBe(1)
    await aws(
      'codestar-connections',
      'update-host',
      '--host-arn',
      hostArn,
      '--provider-endpoint',
      'https://ghes2.example.com',
    )
    await aws('codestar-connections', 'delete-host', '--host-arn', hostArn)
    await aws('codestar-connections', 'delete-connection', '--connection-arn', arn)
    expect(
      await awsError('codestar-connections', 'get-connection', '--connection-arn', arn),
    ).toMatch(/ResourceNotFoundException/)
  })

  it('works through `aws codeconnections` and shows both kinds of ARN', async () => {
    const created = await aws(
      'codeconnections',
      'create-connection',
      '--connection-name',
      'new-conn',
      '--provider-type',
      'GitLab',
    )
    expect(created['ConnectionArn']).toMatch(/^arn:aws:codeconnections:/)
    await aws(
      'codestar-connections',
      'create-connection',
      '--connection-name',
      'old-conn',
      '--provider-type',
      'GitHub',
    )
    const listed = (
      await aws('codeconnections', 'list-connections', '--provider-type-filter', 'GitLab')
    )['Connections'] as { ConnectionName: string }[]
    expect(listed.map((c) => c.ConnectionName)).toEqual(['new-conn'])
    const all = (await aws('codestar-connections', 'list-connections'))['Connections'] as {
      ConnectionArn: string
    }[]
    expect(all.map((c) => c.ConnectionArn.split(':')[2]).sort()).toEqual([
      'codeconnections',
      'codestar-connections',
    ])
  })

  it('shows AWS-shaped errors as the CLI formats them', async () => {
    expect(
      await awsError(
        'codestar-connections',
        'create-connection',
        '--connection-name',
        'x'.repeat(40),
        '--provider-type',
        'GitHub',
      ),
    ).toMatch(
      /An error occurred \(ValidationException\) when calling the CreateConnection operation: 1 validation error detected/,
    )
    expect(await awsError('codeconnections', 'list-repository-links')).toMatch(
      /UnsupportedOperationException.*not supported by Junction yet/,
    )
  })
})
