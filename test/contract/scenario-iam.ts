/**
 * The IAM and STS part of the API-surface contract (api-surface.test.ts): users, keys, inline and
 * managed policies, roles, the policy simulator, and STS, every action answered and refused.
 */
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeletePolicyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListPoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  SimulatePrincipalPolicyCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { expect } from 'vitest'
import { iamClient, policy, stsClient, userWithPolicy } from '../helpers/iam.js'
import { ext } from '../helpers/connect.js'
import type { Surface } from '../helpers/contract.js'
import { fails } from './scenario-connections.js'

const ACCOUNT = '000000000000'

export async function iamScenario(s: Surface): Promise<void> {
  const { c, f } = s
  const iam = s.clients.iam
  const sts = s.clients.sts
  const allowAll = policy({ Effect: 'Allow', Action: '*', Resource: '*' })
  const readConnections = policy({
    Effect: 'Allow',
    Action: 'codestar-connections:Get*',
    Resource: '*',
    Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
  })

  // Users and their keys.
  const user = await iam.send(
    new CreateUserCommand({
      UserName: 'ci',
      Path: '/teams/web/',
      Tags: [{ Key: 'team', Value: 'web' }],
    }),
  )
  await iam.send(new CreateUserCommand({ UserName: 'other' }))
  await iam.send(new GetUserCommand({ UserName: 'ci' }))
  const users = await iam.send(new ListUsersCommand({ MaxItems: 1 }))
  expect(users.IsTruncated).toBe(true)
  await iam.send(new ListUsersCommand({ Marker: users.Marker! }))
  await iam.send(new ListUsersCommand({ PathPrefix: '/teams/' }))
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey!
  const second = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey!
  await iam.send(new ListAccessKeysCommand({ UserName: 'ci' }))
  await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId }))
  await iam.send(
    new UpdateAccessKeyCommand({
      UserName: 'ci',
      AccessKeyId: second.AccessKeyId,
      Status: 'Inactive',
    }),
  )

  // Inline policies of the user, then as the user itself.
  await iam.send(
    new PutUserPolicyCommand({ UserName: 'ci', PolicyName: 'all', PolicyDocument: allowAll }),
  )
  await iam.send(new GetUserPolicyCommand({ UserName: 'ci', PolicyName: 'all' }))
  await iam.send(new ListUserPoliciesCommand({ UserName: 'ci' }))
  const creds = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }
  const asUser = c.watch(iamClient(f.server.url, creds), 'iam')
  const stsUser = c.watch(stsClient(f.server.url, creds), 'sts')
  try {
    expect((await asUser.send(new GetUserCommand({}))).User!.Arn).toBe(user.User!.Arn)
    await asUser.send(new ListAccessKeysCommand({}))
    await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId }))
    await stsUser.send(new GetCallerIdentityCommand({}))
    await sts.send(new GetCallerIdentityCommand({}))

    // Managed policies, attached and detached.
    const managed = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'read',
        PolicyDocument: readConnections,
        Description: 'reads',
      }),
    )
    const policyArn = managed.Policy!.Arn!
    await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))
    await iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: 'v1' }))
    await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))
    await iam.send(new AttachUserPolicyCommand({ UserName: 'ci', PolicyArn: policyArn }))
    await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'ci' }))
    await iam.send(new ListPoliciesCommand({ OnlyAttached: true, MaxItems: 1 }))

    // Roles, assumed by the user.
    const trust = policy({
      Effect: 'Allow',
      Principal: { AWS: user.User!.Arn },
      Action: 'sts:AssumeRole',
    })
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: 'deployer',
        Path: '/ci/',
        AssumeRolePolicyDocument: trust,
        Description: 'deploys',
        MaxSessionDuration: 7200,
        Tags: [{ Key: 'team', Value: 'web' }],
      }),
    )
    await iam.send(new GetRoleCommand({ RoleName: 'deployer' }))
    await iam.send(new ListRolesCommand({ PathPrefix: '/ci/' }))
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'deployer', PolicyDocument: trust }),
    )
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'deployer',
        PolicyName: 'read',
        PolicyDocument: readConnections,
      }),
    )
    await iam.send(new GetRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'read' }))
    await iam.send(new ListRolePoliciesCommand({ RoleName: 'deployer' }))
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: policyArn }))
    await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'deployer' }))
    const assumed = await stsUser.send(
      new AssumeRoleCommand({
        RoleArn: role.Role!.Arn,
        RoleSessionName: 'deploy-1',
        DurationSeconds: 900,
      }),
    )
    await stsUser.send(
      new AssumeRoleCommand({
        RoleArn: role.Role!.Arn,
        RoleSessionName: 'deploy-2',
        Policy: readConnections,
      }),
    )
    const session = assumed.Credentials!
    const stsSession = c.watch(
      stsClient(f.server.url, {
        accessKeyId: session.AccessKeyId!,
        secretAccessKey: session.SecretAccessKey!,
        sessionToken: session.SessionToken!,
      }),
      'sts',
    )
    await stsSession.send(new GetCallerIdentityCommand({}))
    stsSession.destroy()
    await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: user.User!.Arn,
        ActionNames: [
          'codestar-connections:GetConnection',
          'codestar-connections:DeleteConnection',
        ],
        ResourceArns: [`arn:aws:codestar-connections:us-east-1:${ACCOUNT}:connection/x`],
        ContextEntries: [
          {
            ContextKeyName: 'aws:RequestedRegion',
            ContextKeyValues: ['us-east-1'],
            ContextKeyType: 'string',
          },
        ],
      }),
    )
    await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: role.Role!.Arn,
        ActionNames: ['iam:GetUser'],
      }),
    )

    // Bad calls: validation, not found, conflicts, quotas, malformed documents, denials.
    const noUser = { UserName: 'nobody' }
    const noPolicy = `arn:aws:iam::${ACCOUNT}:policy/nothing`
    await fails(iam.send(new CreateUserCommand({ UserName: 'ci' })), 'EntityAlreadyExistsException')
    await fails(iam.send(new CreateUserCommand({ UserName: 'bad name!' })), 'ValidationError')
    await fails(iam.send(new GetUserCommand(noUser)), 'NoSuchEntityException')
    await fails(iam.send(new ListUsersCommand({ Marker: 'forged' })), 'ValidationError')
    await fails(iam.send(new DeleteUserCommand({ UserName: 'ci' })), 'DeleteConflictException')
    await fails(iam.send(new CreateAccessKeyCommand({ UserName: 'ci' })), 'LimitExceededException')
    await fails(iam.send(new ListAccessKeysCommand(noUser)), 'NoSuchEntityException')
    await fails(
      iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'JKIAUNKNOWNUNKNOWN00' })),
      'AccessDenied',
    )
    await fails(
      iam.send(
        new UpdateAccessKeyCommand({
          UserName: 'ci',
          AccessKeyId: 'JKIAUNKNOWNUNKNOWN00',
          Status: 'Active',
        }),
      ),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new DeleteAccessKeyCommand({ UserName: 'ci', AccessKeyId: 'JKIAUNKNOWNUNKNOWN00' })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(
        new PutUserPolicyCommand({
          UserName: 'ci',
          PolicyName: 'bad',
          PolicyDocument: '{"Statement":[]',
        }),
      ),
      'MalformedPolicyDocumentException',
    )
    await fails(
      iam.send(new GetUserPolicyCommand({ UserName: 'ci', PolicyName: 'none' })),
      'NoSuchEntityException',
    )
    await fails(iam.send(new ListUserPoliciesCommand(noUser)), 'NoSuchEntityException')
    await fails(
      iam.send(new DeleteUserPolicyCommand({ UserName: 'ci', PolicyName: 'none' })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new AttachUserPolicyCommand({ UserName: 'ci', PolicyArn: noPolicy })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new DetachUserPolicyCommand({ UserName: 'other', PolicyArn: policyArn })),
      'NoSuchEntityException',
    )
    await fails(iam.send(new ListAttachedUserPoliciesCommand(noUser)), 'NoSuchEntityException')
    await fails(
      iam.send(new CreatePolicyCommand({ PolicyName: 'read', PolicyDocument: readConnections })),
      'EntityAlreadyExistsException',
    )
    await fails(iam.send(new GetPolicyCommand({ PolicyArn: noPolicy })), 'NoSuchEntityException')
    await fails(
      iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: 'v2' })),
      'NoSuchEntityException',
    )
    await fails(iam.send(new ListPoliciesCommand({ MaxItems: 0 })), 'ValidationError')
    await fails(
      iam.send(new DeletePolicyCommand({ PolicyArn: policyArn })),
      'DeleteConflictException',
    )
    await fails(
      iam.send(new CreateRoleCommand({ RoleName: 'deployer', AssumeRolePolicyDocument: trust })),
      'EntityAlreadyExistsException',
    )
    await fails(
      iam.send(new CreateRoleCommand({ RoleName: 'broken', AssumeRolePolicyDocument: allowAll })),
      'MalformedPolicyDocumentException',
    )
    await fails(iam.send(new GetRoleCommand({ RoleName: 'nothing' })), 'NoSuchEntityException')
    await fails(iam.send(new ListRolesCommand({ MaxItems: 1001 })), 'ValidationError')
    await fails(
      iam.send(new DeleteRoleCommand({ RoleName: 'deployer' })),
      'DeleteConflictException',
    )
    await fails(
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'nothing', PolicyDocument: trust })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: 'nothing',
          PolicyName: 'p',
          PolicyDocument: allowAll,
        }),
      ),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new GetRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'none' })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new ListRolePoliciesCommand({ RoleName: 'nothing' })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new DeleteRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'none' })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new AttachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: noPolicy })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new DetachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: noPolicy })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'nothing' })),
      'NoSuchEntityException',
    )
    await fails(
      iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: `arn:aws:iam::${ACCOUNT}:group/x`,
          ActionNames: ['iam:GetUser'],
        }),
      ),
      'InvalidInputException',
    )
    await fails(
      sts.send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn, RoleSessionName: 'root' })),
      'AccessDenied',
    )
    await fails(
      stsUser.send(
        new AssumeRoleCommand({
          RoleArn: role.Role!.Arn,
          RoleSessionName: 'long',
          DurationSeconds: 7201,
        }),
      ),
      'ValidationError',
    )
    expect((await c.query(f.raw, 'sts', 'GetCallerIdentity', {}, { credentials: null })).code).toBe(
      'MissingAuthenticationToken',
    )

    // Junction's explanation is its own operation, authorized as SimulatePrincipalPolicy.
    const explainInput = { PolicySourceArn: user.User!.Arn!, ActionNames: ['iam:GetUser'] }
    const explained = await ext(f, 'ExplainPrincipalPolicy', explainInput)
    expect(explained.status, explained.text).toBe(200)
    expect(explained.json['PrincipalArn']).toBe(user.User!.Arn)
    const nobody = await userWithPolicy(iam, 'explain-nobody')
    expect((await ext(f, 'ExplainPrincipalPolicy', explainInput, nobody)).json.__type).toBe(
      'AccessDeniedException',
    )
    expect(
      (await ext(f, 'ExplainPrincipalPolicy', { ...explainInput, ActionNames: 'iam:GetUser' })).json
        .__type,
    ).toBe('ValidationException')

    // Names outside the models: on IAM, on STS, and each service's actions on the other.
    for (const [api, action] of [
      ['iam', 'CompleteConnection'],
      ['iam', 'AssumeRole'],
      ['sts', 'CreateUser'],
      ['sts', 'GetSessionToken'],
      ['iam', 'CreateGroup'],
    ] as const)
      expect((await c.query(f.raw, api, action)).code).toBe('InvalidAction')

    // Undo, in dependency order (each delete answered).
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: policyArn }))
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'read' }))
    await iam.send(new DeleteRoleCommand({ RoleName: 'deployer' }))
    await iam.send(new DetachUserPolicyCommand({ UserName: 'ci', PolicyArn: policyArn }))
    await iam.send(new DeletePolicyCommand({ PolicyArn: policyArn }))
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'ci', PolicyName: 'all' }))
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'ci', AccessKeyId: second.AccessKeyId }))
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'ci', AccessKeyId: key.AccessKeyId }))
    await iam.send(new DeleteUserCommand({ UserName: 'ci' }))
    await fails(iam.send(new DeleteUserCommand({ UserName: 'ci' })), 'NoSuchEntityException')
    await fails(
      iam.send(new DeletePolicyCommand({ PolicyArn: policyArn })),
      'NoSuchEntityException',
    )
    await fails(iam.send(new DeleteRoleCommand({ RoleName: 'deployer' })), 'NoSuchEntityException')
  } finally {
    asUser.destroy()
    stsUser.destroy()
  }
}
