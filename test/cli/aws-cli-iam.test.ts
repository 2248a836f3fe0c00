/**
 * The least-privilege flow through the AWS CLI: `aws iam` and `aws sts` against Junction, then
 * calls as the new user and as a role session, allowed and denied.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { run, writeAwsConfig } from '../helpers/aws-cli.js'

// Every `aws` call starts Python (about a second): these cases run tens of them in a row.
vi.setConfig({ testTimeout: 120_000 })

describeWith(needs.aws)('AWS CLI: iam and sts', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite')
    writeAwsConfig(server)
  })
  afterAll(async () => server?.stop())

  const aws = async (creds: Record<string, string> | undefined, ...args: string[]) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      AWS_CONFIG_FILE: join(server.dataDir, 'aws-config'),
      AWS_PAGER: '',
      AWS_DEFAULT_REGION: 'us-east-1',
    }
    if (creds) Object.assign(env, creds, { AWS_SHARED_CREDENTIALS_FILE: '/dev/null' })
    else env['AWS_SHARED_CREDENTIALS_FILE'] = join(server.dataDir, 'credentials')
    const profile = creds ? [] : ['--profile', 'junction']
    try {
      const { stdout } = await run(
        'aws',
        [...profile, '--endpoint-url', server.url, '--output', 'json', ...args],
        { env },
      )
      return {
        ok: true,
        out: stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {},
        err: '',
      }
    } catch (e) {
      return { ok: false, out: {}, err: (e as { stderr: string }).stderr }
    }
  }

  it('creates a limited user with the CLI and acts as it', async () => {
    expect((await aws(undefined, 'iam', 'create-user', '--user-name', 'payments-ci')).ok).toBe(true)
    const key = (await aws(undefined, 'iam', 'create-access-key', '--user-name', 'payments-ci'))
      .out['AccessKey'] as Record<string, string>
    const doc = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['codestar-connections:CreateConnection', 'codestar-connections:TagResource'],
          Resource: '*',
          Condition: {
            StringEquals: {
              'codestar-connections:ProviderType': 'Bitbucket',
              'aws:RequestTag/team': 'payments',
            },
          },
        },
        {
          Effect: 'Allow',
          Action: 'codestar-connections:GetConnection',
          Resource: '*',
          Condition: { StringEquals: { 'aws:ResourceTag/team': 'payments' } },
        },
      ],
    })
    expect(
      (
        await aws(
          undefined,
          'iam',
          'put-user-policy',
          '--user-name',
          'payments-ci',
          '--policy-name',
          'payments',
          '--policy-document',
          doc,
        )
      ).ok,
    ).toBe(true)
    const got = await aws(
      undefined,
      'iam',
      'get-user-policy',
      '--user-name',
      'payments-ci',
      '--policy-name',
      'payments',
    )
    expect(got.out['PolicyDocument']).toEqual(JSON.parse(doc))

    const asUser = {
      AWS_ACCESS_KEY_ID: key['AccessKeyId']!,
      AWS_SECRET_ACCESS_KEY: key['SecretAccessKey']!,
    }
    expect((await aws(asUser, 'sts', 'get-caller-identity')).out['Arn']).toBe(
      'arn:aws:iam::000000000000:user/payments-ci',
    )
    const made = await aws(
      asUser,
      'codestar-connections',
      'create-connection',
      '--connection-name',
      'payments-bb',
      '--provider-type',
      'Bitbucket',
      '--tags',
      'Key=team,Value=payments',
    )
    expect(made.ok).toBe(true)
    const arn = made.out['ConnectionArn'] as string
    expect(
      (await aws(asUser, 'codestar-connections', 'get-connection', '--connection-arn', arn)).ok,
    ).toBe(true)
    const github = await aws(
      asUser,
      'codestar-connections',
      'create-connection',
      '--connection-name',
      'gh',
      '--provider-type',
      'GitHub',
      '--tags',
      'Key=team,Value=payments',
    )
    expect(github.err).toMatch(
      /AccessDeniedException.*not authorized to perform: codestar-connections:CreateConnection/,
    )
    const del = await aws(
      asUser,
      'codestar-connections',
      'delete-connection',
      '--connection-arn',
      arn,
    )
    expect(del.err).toMatch(
      /because no identity-based policy allows the codestar-connections:DeleteConnection action/,
    )
    expect((await aws(asUser, 'iam', 'list-users')).err).toMatch(/AccessDenied/)
  })

  it('assumes a role with `aws sts assume-role` and uses the session', async () => {
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::000000000000:user/payments-ci' },
          Action: 'sts:AssumeRole',
        },
      ],
    })
    expect(
      (
        await aws(
          undefined,
          'iam',
          'create-role',
          '--role-name',
          'lister',
          '--assume-role-policy-document',
          trust,
        )
      ).ok,
    ).toBe(true)
    const listPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'codestar-connections:ListConnections', Resource: '*' },
      ],
    })
    const created = await aws(
      undefined,
      'iam',
      'create-policy',
      '--policy-name',
      'ListOnly',
      '--policy-document',
      listPolicy,
    )
    const policyArn = (created.out['Policy'] as Record<string, string>)['Arn']!
    expect(
      (
        await aws(
          undefined,
          'iam',
          'attach-role-policy',
          '--role-name',
          'lister',
          '--policy-arn',
          policyArn,
        )
      ).ok,
    ).toBe(true)
    expect(
      (
        (await aws(undefined, 'iam', 'list-attached-role-policies', '--role-name', 'lister')).out[
          'AttachedPolicies'
        ] as unknown[]
      ).length,
    ).toBe(1)

    const key = (await aws(undefined, 'iam', 'create-access-key', '--user-name', 'payments-ci'))
      .out['AccessKey'] as Record<string, string>
    const asUser = {
      AWS_ACCESS_KEY_ID: key['AccessKeyId']!,
      AWS_SECRET_ACCESS_KEY: key['SecretAccessKey']!,
    }
    const assumed = await aws(
      asUser,
      'sts',
      'assume-role',
      '--role-arn',
      'arn:aws:iam::000000000000:role/lister',
      '--role-session-name',
      'cli',
    )
    expect(assumed.ok).toBe(true)
    const c = assumed.out['Credentials'] as Record<string, string>
    const asRole = {
      AWS_ACCESS_KEY_ID: c['AccessKeyId']!,
      AWS_SECRET_ACCESS_KEY: c['SecretAccessKey']!,
      AWS_SESSION_TOKEN: c['SessionToken']!,
    }
    expect((await aws(asRole, 'codestar-connections', 'list-connections')).ok).toBe(true)
    expect(
      (
        await aws(
          asRole,
          'codestar-connections',
          'create-connection',
          '--connection-name',
          'x',
          '--provider-type',
          'GitHub',
        )
      ).err,
    ).toMatch(/AccessDeniedException/)
    const sim = await aws(
      undefined,
      'iam',
      'simulate-principal-policy',
      '--policy-source-arn',
      'arn:aws:iam::000000000000:role/lister',
      '--action-names',
      'codestar-connections:ListConnections',
      'codestar-connections:DeleteConnection',
    )
    expect(
      (sim.out['EvaluationResults'] as { EvalDecision: string }[]).map((r) => r.EvalDecision),
    ).toEqual(['allowed', 'implicitDeny'])
  })

  // About forty `aws` processes one after another (each starts Python): over 30 s when busy.
  it('runs every other IAM call the README lists', async () => {
    const ok = async (...args: string[]) => {
      const r = await aws(undefined, ...args)
      expect(r.err, args.join(' ')).toBe('')
      return r.out
    }
    const doc = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'codestar-connections:Get*', Resource: '*' }],
    })
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 'sts:AssumeRole' },
      ],
    })
    await ok('iam', 'create-user', '--user-name', 'every-call')
    await ok(
      'iam',
      'put-user-policy',
      '--user-name',
      'every-call',
      '--policy-name',
      'read',
      '--policy-document',
      doc,
    )
    expect(
      (await ok('iam', 'list-user-policies', '--user-name', 'every-call'))['PolicyNames'],
    ).toEqual(['read'])
    await ok('iam', 'delete-user-policy', '--user-name', 'every-call', '--policy-name', 'read')
    const policyArn = (
      (await ok('iam', 'create-policy', '--policy-name', 'EveryCall', '--policy-document', doc))[
        'Policy'
      ] as Record<string, string>
    )['Arn']!
    expect(
      (
        (await ok('iam', 'get-policy', '--policy-arn', policyArn))['Policy'] as Record<
          string,
          unknown
        >
      )['PolicyName'],
    ).toBe('EveryCall')
    expect(
      (
        (await ok('iam', 'get-policy-version', '--policy-arn', policyArn, '--version-id', 'v1'))[
          'PolicyVersion'
        ] as Record<string, unknown>
      )['Document'],
    ).toEqual(JSON.parse(doc))
    expect(
      ((await ok('iam', 'list-policies', '--scope', 'Local'))['Policies'] as unknown[]).length,
    ).toBeGreaterThan(0)
    await ok('iam', 'attach-user-policy', '--user-name', 'every-call', '--policy-arn', policyArn)
    expect(
      (
        (await ok('iam', 'list-attached-user-policies', '--user-name', 'every-call'))[
          'AttachedPolicies'
        ] as unknown[]
      ).length,
    ).toBe(1)
    await ok('iam', 'detach-user-policy', '--user-name', 'every-call', '--policy-arn', policyArn)
    const key = (
      (await ok('iam', 'create-access-key', '--user-name', 'every-call'))['AccessKey'] as Record<
        string,
        string
      >
    )['AccessKeyId']!
    expect(
      (
        (await ok('iam', 'list-access-keys', '--user-name', 'every-call'))[
          'AccessKeyMetadata'
        ] as unknown[]
      ).length,
    ).toBe(1)
    await ok(
      'iam',
      'update-access-key',
      '--user-name',
      'every-call',
      '--access-key-id',
      key,
      '--status',
      'Inactive',
    )
    expect((await ok('iam', 'get-access-key-last-used', '--access-key-id', key))['UserName']).toBe(
      'every-call',
    )
    await ok('iam', 'delete-access-key', '--user-name', 'every-call', '--access-key-id', key)
    await ok('iam', 'delete-user', '--user-name', 'every-call')
    await ok(
      'iam',
      'create-role',
      '--role-name',
      'every-role',
      '--assume-role-policy-document',
      trust,
    )
    expect(
      (
        (await ok('iam', 'get-role', '--role-name', 'every-role'))['Role'] as Record<
          string,
          unknown
        >
      )['AssumeRolePolicyDocument'],
    ).toEqual(JSON.parse(trust))
    expect(
      ((await ok('iam', 'list-roles'))['Roles'] as { RoleName: string }[]).map((r) => r.RoleName),
    ).toContain('every-role')
    await ok(
      'iam',
      'update-assume-role-policy',
      '--role-name',
      'every-role',
      '--policy-document',
      trust,
    )
    await ok(
      'iam',
      'put-role-policy',
      '--role-name',
      'every-role',
      '--policy-name',
      'read',
      '--policy-document',
      doc,
    )
    expect(
      (await ok('iam', 'get-role-policy', '--role-name', 'every-role', '--policy-name', 'read'))[
        'PolicyDocument'
      ],
    ).toEqual(JSON.parse(doc))
    expect(
      (await ok('iam', 'list-role-policies', '--role-name', 'every-role'))['PolicyNames'],
    ).toEqual(['read'])
    await ok('iam', 'delete-role-policy', '--role-name', 'every-role', '--policy-name', 'read')
    await ok('iam', 'attach-role-policy', '--role-name', 'every-role', '--policy-arn', policyArn)
    await ok('iam', 'detach-role-policy', '--role-name', 'every-role', '--policy-arn', policyArn)
    await ok('iam', 'delete-role', '--role-name', 'every-role')
    await ok('iam', 'delete-policy', '--policy-arn', policyArn)
  }, 120_000)

  it('reports IAM errors as the CLI formats them', async () => {
    expect((await aws(undefined, 'iam', 'get-user', '--user-name', 'ghost')).err).toMatch(
      /An error occurred \(NoSuchEntity\) when calling the GetUser operation/,
    )
    expect((await aws(undefined, 'iam', 'create-user', '--user-name', 'payments-ci')).err).toMatch(
      /EntityAlreadyExists/,
    )
    expect((await aws(undefined, 'iam', 'delete-user', '--user-name', 'payments-ci')).err).toMatch(
      /DeleteConflict/,
    )
    expect(
      (
        await aws(
          undefined,
          'iam',
          'put-user-policy',
          '--user-name',
          'payments-ci',
          '--policy-name',
          'x',
          '--policy-document',
          '{"Statement":[]}',
        )
      ).err,
    ).toMatch(/MalformedPolicyDocument/)
  })
})
