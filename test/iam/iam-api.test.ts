import { describe, expect, it } from 'vitest'
import {
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
  AttachRolePolicyCommand,
  DetachRolePolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  SimulatePrincipalPolicyCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import {
  CreateConnectionCommand,
  ListConnectionsCommand,
} from '@aws-sdk/client-codestar-connections'
import { describeApi, sdkError } from '../helpers/api.js'
import { sdkClient } from '../helpers/client.js'
import { iamClient, policy, stsClient, userWithPolicy } from '../helpers/iam.js'

const trust = (principal: unknown) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }],
  })
const readOnly = policy({ Effect: 'Allow', Action: 'codestar-connections:List*', Resource: '*' })

describeApi('IAM API', (f) => {
  const iam = () => iamClient(f.server.url, f.server.credentials)

  describe('users', () => {
    it('creates, reads, lists with pagination and deletes users', async () => {
      const c = iam()
      const created = await c.send(new CreateUserCommand({ UserName: 'u-alice', Path: '/team/' }))
      expect(created.User).toMatchObject({
        UserName: 'u-alice',
        Path: '/team/',
        Arn: 'arn:aws:iam::000000000000:user/team/u-alice',
      })
      expect(created.User?.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/)
      expect(created.User?.CreateDate).toBeInstanceOf(Date)
      for (const n of ['u-bob', 'u-carol', 'u-dave'])
        await c.send(new CreateUserCommand({ UserName: n }))
      expect((await c.send(new GetUserCommand({ UserName: 'u-alice' }))).User?.Arn).toBe(
        created.User?.Arn,
      )
      const first = await c.send(new ListUsersCommand({ MaxItems: 2 }))
      expect(first.Users?.map((u) => u.UserName)).toEqual(['u-alice', 'u-bob'])
      expect(first.IsTruncated).toBe(true)
      const rest = await c.send(new ListUsersCommand({ Marker: first.Marker }))
      expect(rest.Users?.map((u) => u.UserName)).toEqual(['u-carol', 'u-dave'])
      expect(rest.IsTruncated).toBe(false)
      expect(
        (await c.send(new ListUsersCommand({ PathPrefix: '/team/' }))).Users?.map(
          (u) => u.UserName,
        ),
      ).toEqual(['u-alice'])
      await c.send(new DeleteUserCommand({ UserName: 'u-dave' }))
      const gone = await sdkError(c.send(new GetUserCommand({ UserName: 'u-dave' })))
      expect(gone.name).toBe('NoSuchEntityException')
      expect(gone.$metadata.httpStatusCode).toBe(404)
    })
    it('refuses a duplicate user with EntityAlreadyExists (409)', async () => {
      await iam().send(new CreateUserCommand({ UserName: 'u-dup' }))
      const err = await sdkError(iam().send(new CreateUserCommand({ UserName: 'u-dup' })))
      expect(err.name).toBe('EntityAlreadyExistsException')
      expect(err.$metadata.httpStatusCode).toBe(409)
    })
    it('refuses a bad user name with ValidationError', async () => {
      const err = await sdkError(iam().send(new CreateUserCommand({ UserName: 'bad name!' })))
      expect(err.name).toBe('ValidationError')
      expect(err.message).toMatch(
        /at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern/,
      )
    })
    it('refuses to delete a user that has keys, policies or attachments (DeleteConflict)', async () => {
      const c = iam()
      await c.send(new CreateUserCommand({ UserName: 'u-held' }))
      const { AccessKey } = await c.send(new CreateAccessKeyCommand({ UserName: 'u-held' }))
      expect((await sdkError(c.send(new DeleteUserCommand({ UserName: 'u-held' })))).name).toBe(
        'DeleteConflictException',
      )
      await c.send(
        new DeleteAccessKeyCommand({ UserName: 'u-held', AccessKeyId: AccessKey!.AccessKeyId }),
      )
      await c.send(new DeleteUserCommand({ UserName: 'u-held' }))
    })
  })

  describe('access keys', () => {
    it('issues at most two keys per user; an inactive or deleted key stops working', async () => {
      const c = iam()
      const creds = await userWithPolicy(c, 'k-user', readOnly)
      const sdk = sdkClient(f.server.url, creds)
      const known = (
        await sdkClient(f.server.url, f.server.credentials).send(
          new CreateConnectionCommand({ ConnectionName: 'k-visible', ProviderType: 'GitHub' }),
        )
      ).ConnectionArn
      const listed = async () =>
        ((await sdk.send(new ListConnectionsCommand({}))).Connections ?? []).map(
          (x) => x.ConnectionArn,
        )
      expect(await listed()).toContain(known)
      await c.send(new CreateAccessKeyCommand({ UserName: 'k-user' }))
      const third = await sdkError(c.send(new CreateAccessKeyCommand({ UserName: 'k-user' })))
      expect(third.name).toBe('LimitExceededException')
      const keys = await c.send(new ListAccessKeysCommand({ UserName: 'k-user' }))
      expect(keys.AccessKeyMetadata).toHaveLength(2)
      expect(JSON.stringify(keys)).not.toContain(creds.secretAccessKey)
      const used = await c.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: creds.accessKeyId }))
      expect(used.UserName).toBe('k-user')
      expect(Date.now() - used.AccessKeyLastUsed!.LastUsedDate!.getTime()).toBeLessThan(60_000)
      await c.send(
        new UpdateAccessKeyCommand({
          UserName: 'k-user',
          AccessKeyId: creds.accessKeyId,
          Status: 'Inactive',
        }),
      )
      expect((await sdkError(sdk.send(new ListConnectionsCommand({})))).name).toBe(
        'UnrecognizedClientException',
      )
      await c.send(
        new UpdateAccessKeyCommand({
          UserName: 'k-user',
          AccessKeyId: creds.accessKeyId,
          Status: 'Active',
        }),
      )
      expect(await listed()).toContain(known)
      await c.send(
        new DeleteAccessKeyCommand({ UserName: 'k-user', AccessKeyId: creds.accessKeyId }),
      )
      expect((await sdkError(sdk.send(new ListConnectionsCommand({})))).name).toBe(
        'UnrecognizedClientException',
      )
      expect(
        (
          await sdkError(
            c.send(
              new DeleteAccessKeyCommand({ UserName: 'k-user', AccessKeyId: creds.accessKeyId }),
            ),
          )
        ).name,
      ).toBe('NoSuchEntityException')
    })
    it('lets a user manage its own keys without naming itself', async () => {
      const c = iam()
      const creds = await userWithPolicy(
        c,
        'self-user',
        policy({
          Effect: 'Allow',
          Action: ['iam:ListAccessKeys', 'iam:GetUser'],
          Resource: 'arn:aws:iam::000000000000:user/${aws:username}',
        }),
      )
      const own = iamClient(f.server.url, creds)
      expect(
        (await own.send(new ListAccessKeysCommand({}))).AccessKeyMetadata?.[0]?.AccessKeyId,
      ).toBe(creds.accessKeyId)
      expect((await own.send(new GetUserCommand({}))).User?.UserName).toBe('self-user')
      const other = await sdkError(own.send(new GetUserCommand({ UserName: 'k-user' })))
      expect(other.name).toBe('AccessDenied')
      expect(other.$metadata.httpStatusCode).toBe(403)
    })
  })

  describe('policies', () => {
    it('puts, gets, lists and deletes inline user policies', async () => {
      const c = iam()
      await c.send(new CreateUserCommand({ UserName: 'p-user' }))
      await c.send(
        new PutUserPolicyCommand({
          UserName: 'p-user',
          PolicyName: 'read',
          PolicyDocument: readOnly,
        }),
      )
      const got = await c.send(new GetUserPolicyCommand({ UserName: 'p-user', PolicyName: 'read' }))
      expect(JSON.parse(decodeURIComponent(got.PolicyDocument!))).toEqual(JSON.parse(readOnly))
      expect(
        (await c.send(new ListUserPoliciesCommand({ UserName: 'p-user' }))).PolicyNames,
      ).toEqual(['read'])
      await c.send(new DeleteUserPolicyCommand({ UserName: 'p-user', PolicyName: 'read' }))
      expect(
        (
          await sdkError(
            c.send(new GetUserPolicyCommand({ UserName: 'p-user', PolicyName: 'read' })),
          )
        ).name,
      ).toBe('NoSuchEntityException')
      expect(
        (
          await sdkError(
            c.send(
              new PutUserPolicyCommand({
                UserName: 'nobody',
                PolicyName: 'x',
                PolicyDocument: readOnly,
              }),
            ),
          )
        ).name,
      ).toBe('NoSuchEntityException')
    })
    it('refuses malformed documents with MalformedPolicyDocument and says why', async () => {
      const c = iam()
      await c.send(new CreateUserCommand({ UserName: 'm-user' }))
      const cases: [string, RegExp][] = [
        ['{"Version":"2012-10-17"', /not valid JSON/],
        [policy({ Effect: 'Allow', Action: '*' }), /must contain resources/],
        [policy({ Effect: 'Permit', Action: '*', Resource: '*' }), /Invalid effect/],
        [
          policy({
            Effect: 'Allow',
            Action: '*',
            Resource: '*',
            Condition: { StringEqualz: { a: 'b' } },
          }),
          /Invalid condition operator/,
        ],
      ]
      for (const [doc, why] of cases) {
        const err = await sdkError(
          c.send(
            new PutUserPolicyCommand({
              UserName: 'm-user',
              PolicyName: 'bad',
              PolicyDocument: doc,
            }),
          ),
        )
        expect(err.name).toBe('MalformedPolicyDocumentException')
        expect(err.message).toMatch(why)
      }
      expect(await c.send(new ListUserPoliciesCommand({ UserName: 'm-user' }))).toMatchObject({
        PolicyNames: [],
      })
    })
    it('refuses inline policies over 2,048 characters for a user (LimitExceeded)', async () => {
      const c = iam()
      await c.send(new CreateUserCommand({ UserName: 'big-user' }))
      const big = policy(
        ...Array.from({ length: 40 }, (_, i) => ({
          Effect: 'Allow',
          Action: `codestar-connections:Get${i}`,
          Resource: '*',
        })),
      )
      expect(
        (
          await sdkError(
            c.send(
              new PutUserPolicyCommand({
                UserName: 'big-user',
                PolicyName: 'big',
                PolicyDocument: big,
              }),
            ),
          )
        ).name,
      ).toBe('LimitExceededException')
    })
    it('creates managed policies, attaches and detaches them, and refuses deleting an attached one', async () => {
      const c = iam()
      await c.send(new CreateUserCommand({ UserName: 'a-user' }))
      const { Policy } = await c.send(
        new CreatePolicyCommand({
          PolicyName: 'ConnRead',
          PolicyDocument: readOnly,
          Description: 'read',
        }),
      )
      expect(Policy).toMatchObject({
        PolicyName: 'ConnRead',
        Arn: 'arn:aws:iam::000000000000:policy/ConnRead',
        DefaultVersionId: 'v1',
        AttachmentCount: 0,
      })
      expect(
        (
          await sdkError(
            c.send(new CreatePolicyCommand({ PolicyName: 'ConnRead', PolicyDocument: readOnly })),
          )
        ).name,
      ).toBe('EntityAlreadyExistsException')
      await c.send(new AttachUserPolicyCommand({ UserName: 'a-user', PolicyArn: Policy!.Arn }))
      expect(
        (await c.send(new GetPolicyCommand({ PolicyArn: Policy!.Arn }))).Policy?.AttachmentCount,
      ).toBe(1)
      const version = await c.send(
        new GetPolicyVersionCommand({ PolicyArn: Policy!.Arn, VersionId: 'v1' }),
      )
      expect(JSON.parse(decodeURIComponent(version.PolicyVersion!.Document!))).toEqual(
        JSON.parse(readOnly),
      )
      expect(
        (await c.send(new ListAttachedUserPoliciesCommand({ UserName: 'a-user' })))
          .AttachedPolicies,
      ).toEqual([{ PolicyName: 'ConnRead', PolicyArn: Policy!.Arn }])
      expect(
        (await c.send(new ListPoliciesCommand({ OnlyAttached: true }))).Policies?.map(
          (p) => p.PolicyName,
        ),
      ).toContain('ConnRead')
      expect((await c.send(new ListPoliciesCommand({ Scope: 'AWS' }))).Policies).toEqual([])
      expect(
        (await sdkError(c.send(new DeletePolicyCommand({ PolicyArn: Policy!.Arn })))).name,
      ).toBe('DeleteConflictException')
      await c.send(new DetachUserPolicyCommand({ UserName: 'a-user', PolicyArn: Policy!.Arn }))
      await c.send(new DeletePolicyCommand({ PolicyArn: Policy!.Arn }))
      expect((await sdkError(c.send(new GetPolicyCommand({ PolicyArn: Policy!.Arn })))).name).toBe(
        'NoSuchEntityException',
      )
    })
  })

  describe('roles', () => {
    it('creates roles with trust policies, updates and deletes them', async () => {
      const c = iam()
      const { Role } = await c.send(
        new CreateRoleCommand({
          RoleName: 'r-pipeline',
          AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:root' }),
          MaxSessionDuration: 7200,
        }),
      )
      expect(Role).toMatchObject({
        RoleName: 'r-pipeline',
        Arn: 'arn:aws:iam::000000000000:role/r-pipeline',
        MaxSessionDuration: 7200,
      })
      expect(Role?.RoleId).toMatch(/^AROA/)
      const got = await c.send(new GetRoleCommand({ RoleName: 'r-pipeline' }))
      expect(
        JSON.parse(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!)).Statement[0].Principal
          .AWS,
      ).toBe('arn:aws:iam::000000000000:root')
      await c.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: 'r-pipeline', PolicyDocument: trust('*') }),
      )
      expect((await c.send(new ListRolesCommand({}))).Roles?.map((r) => r.RoleName)).toContain(
        'r-pipeline',
      )
      await c.send(
        new PutRolePolicyCommand({
          RoleName: 'r-pipeline',
          PolicyName: 'use',
          PolicyDocument: readOnly,
        }),
      )
      expect(
        (await c.send(new GetRolePolicyCommand({ RoleName: 'r-pipeline', PolicyName: 'use' })))
          .RoleName,
      ).toBe('r-pipeline')
      expect(
        (await c.send(new ListRolePoliciesCommand({ RoleName: 'r-pipeline' }))).PolicyNames,
      ).toEqual(['use'])
      const { Policy } = await c.send(
        new CreatePolicyCommand({ PolicyName: 'RoleRead', PolicyDocument: readOnly }),
      )
      await c.send(new AttachRolePolicyCommand({ RoleName: 'r-pipeline', PolicyArn: Policy!.Arn }))
      expect(
        (await c.send(new ListAttachedRolePoliciesCommand({ RoleName: 'r-pipeline' })))
          .AttachedPolicies,
      ).toHaveLength(1)
      expect((await sdkError(c.send(new DeleteRoleCommand({ RoleName: 'r-pipeline' })))).name).toBe(
        'DeleteConflictException',
      )
      await c.send(new DetachRolePolicyCommand({ RoleName: 'r-pipeline', PolicyArn: Policy!.Arn }))
      await c.send(new DeleteRolePolicyCommand({ RoleName: 'r-pipeline', PolicyName: 'use' }))
      await c.send(new DeleteRoleCommand({ RoleName: 'r-pipeline' }))
      expect((await sdkError(c.send(new GetRoleCommand({ RoleName: 'r-pipeline' })))).name).toBe(
        'NoSuchEntityException',
      )
    })
    it('refuses a trust policy without a Principal', async () => {
      const err = await sdkError(
        iam().send(
          new CreateRoleCommand({ RoleName: 'r-bad', AssumeRolePolicyDocument: readOnly }),
        ),
      )
      expect(err.name).toBe('MalformedPolicyDocumentException')
    })
  })

  describe('SimulatePrincipalPolicy', () => {
    it('reports decisions, matched statements and missing context keys', async () => {
      const c = iam()
      await userWithPolicy(
        c,
        's-user',
        policy(
          {
            Sid: 'CreateBitbucket',
            Effect: 'Allow',
            Action: 'codestar-connections:CreateConnection',
            Resource: '*',
            Condition: { StringEquals: { 'codestar-connections:ProviderType': 'Bitbucket' } },
          },
          {
            Sid: 'NoDelete',
            Effect: 'Deny',
            Action: 'codestar-connections:DeleteConnection',
            Resource: '*',
          },
        ),
      )
      const out = await c.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: 'arn:aws:iam::000000000000:user/s-user',
          ActionNames: [
            'codestar-connections:CreateConnection',
            'codestar-connections:DeleteConnection',
            'codestar-connections:GetConnection',
          ],
          ContextEntries: [
            {
              ContextKeyName: 'codestar-connections:ProviderType',
              ContextKeyValues: ['Bitbucket'],
              ContextKeyType: 'string',
            },
          ],
        }),
      )
      expect(out.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalDecision])).toEqual([
        ['codestar-connections:CreateConnection', 'allowed'],
        ['codestar-connections:DeleteConnection', 'explicitDeny'],
        ['codestar-connections:GetConnection', 'implicitDeny'],
      ])
      expect(out.EvaluationResults?.[0]?.MatchedStatements?.[0]?.SourcePolicyId).toBe('test')
      const missing = await c.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: 'arn:aws:iam::000000000000:user/s-user',
          ActionNames: ['codestar-connections:CreateConnection'],
        }),
      )
      expect(missing.EvaluationResults?.[0]?.EvalDecision).toBe('implicitDeny')
      expect(missing.EvaluationResults?.[0]?.MissingContextValues).toContain(
        'codestar-connections:ProviderType',
      )
    })
  })

  describe('STS GetCallerIdentity', () => {
    it('names the root and users', async () => {
      expect(
        await stsClient(f.server.url, f.server.credentials).send(new GetCallerIdentityCommand({})),
      ).toMatchObject({
        Account: '000000000000',
        Arn: 'arn:aws:iam::000000000000:root',
        UserId: '000000000000',
      })
      const creds = await userWithPolicy(iam(), 'id-user')
      const me = await stsClient(f.server.url, creds).send(new GetCallerIdentityCommand({}))
      expect(me.Arn).toBe('arn:aws:iam::000000000000:user/id-user')
      expect(me.UserId).toMatch(/^AIDA/)
    })
  })
})
