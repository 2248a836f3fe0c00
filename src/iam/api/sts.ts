/**
 * @module iam/api/sts
 * STS: GetCallerIdentity, and AssumeRole with the role's trust policy, issuing temporary
 * credentials (access key, secret, session token, expiry) that SigV4 verifies with
 * X-Amz-Security-Token.
 */
import { randomBytes } from 'node:crypto'
import { AccessDeniedException } from '../../generated/errors.js'
import { ValidationException } from '../../errors/common.js'
import { parsePolicy } from '../policy/document.js'
import type { Principal } from '../principal.js'
import { newSecretAccessKey } from '../../domain/ids.js'
import type { IamOperation } from './context.js'
import { checkPolicy, iamId, required, str } from './common.js'
import { PackedPolicyTooLarge } from './errors.js'

const SESSION_TOKEN_BYTES = 96

export const stsOperations: Record<string, IamOperation> = {
  GetCallerIdentity: {
    service: 'sts',
    async handle(_input, ctx) {
      const p = ctx.principal
      const compiled = p.kind === 'root' ? undefined : await ctx.authorizer.compiled(p)
      return {
        UserId: p.kind === 'root' ? p.accountId : compiled?.userId,
        Account: p.accountId,
        Arn: p.arn,
      }
    },
  },
  AssumeRole: {
    service: 'sts',
    async handle(input, ctx) {
      const p = ctx.principal
      const roleArn = required(input, 'RoleArn')
      const sessionName = required(input, 'RoleSessionName')
      const denied = (why: string) =>
        new AccessDeniedException(
          `User: ${p.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}${why}`,
        )
      if (p.kind === 'root')
        throw new AccessDeniedException('Roles may not be assumed by root accounts.')
      const parts = roleArn.split(':')
      const roleName = parts[5]?.startsWith('role/') ? parts[5].split('/').pop()! : undefined
      if (parts[4] !== p.accountId || !roleName)
        throw denied(' because the role is not in this account')
      // The role's real ARN (path included) must be the one passed; a role that does not exist
      // (or another path) is decided like a role whose trust policy does not allow the caller,
      // so that the answer says nothing of which roles exist.
      const found = await ctx.store.iam.roles.get(p.accountId, roleName)
      const role = found && found.arn === roleArn ? found : undefined

      const compiled = await ctx.authorizer.compiled(p)
      const context = ctx.authorizer.baseContext(p, compiled, {
        sourceIp: ctx.sourceIp,
        region: ctx.region,
      })
      context.set('sts:RoleSessionName', sessionName)
      if (str(input, 'ExternalId')) context.set('sts:ExternalId', str(input, 'ExternalId')!)
      const decision = ctx.authorizer.decideWithResource(
        p,
        compiled,
        { action: 'sts:AssumeRole', resource: roleArn, context },
        {
          policy: role && {
            name: `the trust policy of role ${role.name}`,
            id: `trust policy of ${role.arn}`,
            document: parsePolicy(role.assumeRolePolicy, 'trust'),
          },
          required: true,
          partition: ctx.partition,
        },
      )
      if (decision.message || !role) throw new AccessDeniedException(decision.message ?? roleArn)

      const duration = (input['DurationSeconds'] as number | undefined) ?? 3600
      if (duration > role.maxSessionDuration)
        throw new ValidationException(
          `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (${role.maxSessionDuration}).`,
        )
      const sessionPolicy = str(input, 'Policy')
      if (sessionPolicy !== undefined) {
        if (sessionPolicy.replace(/\s/g, '').length > 2048)
          throw new PackedPolicyTooLarge(
            'Packed policy consumes more than 100% of the allotted size.',
          )
        checkPolicy(sessionPolicy, 'identity', 2048, 'the session policy')
      }
      const secret = newSecretAccessKey()
      const token = randomBytes(SESSION_TOKEN_BYTES).toString('base64')
      const now = ctx.now()
      const expiresAt = now + duration * 1000
      const accessKeyId = iamId('JSIA').slice(0, 20)
      const assumedArn = `arn:${ctx.partition}:sts::${p.accountId}:assumed-role/${role.name}/${sessionName}`
      await ctx.store.accessKeys.put({
        accessKeyId,
        accountId: p.accountId,
        principalArn: assumedArn,
        secretCiphertext: ctx.masterKey.encrypt(secret),
        status: 'Active',
        createdAt: now,
        kind: 'session',
        roleName: role.name,
        sessionTokenCiphertext: ctx.masterKey.encrypt(token),
        sessionPolicy: sessionPolicy ?? null,
        expiresAt,
      })
      return {
        Credentials: {
          AccessKeyId: accessKeyId,
          SecretAccessKey: secret,
          SessionToken: token,
          Expiration: new Date(expiresAt),
        },
        AssumedRoleUser: { AssumedRoleId: `${role.id}:${sessionName}`, Arn: assumedArn },
        PackedPolicySize: sessionPolicy
          ? Math.ceil((sessionPolicy.replace(/\s/g, '').length / 2048) * 100)
          : undefined,
      }
    },
  },
}

export type { Principal }
