/**
 * @module iam/api/users
 * IAM users and their access keys.
 */
import { newAccessKeyId, newSecretAccessKey } from '../../domain/ids.js'
import { AccessDeniedException } from '../../generated/errors.js'
import { iamArn } from '../principal.js'
import { authorizeOnKeyOwner, userArnOf } from './arns.js'
import type { IamCallContext, IamOperation, Input } from './context.js'
import { decodeMarker, iamId, keyOwner, maxItems, page, required, str, userXml } from './common.js'
import { DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity } from './errors.js'

const userArn = (ctx: IamCallContext, name: string, path = '/') =>
  iamArn(ctx.partition, ctx.principal.accountId, 'user', path, name)

/**
 * The ARN a user-scoped call is authorized on: the named user's (or the calling user's) real
 * ARN, path included, when it exists.
 */
function userResource(input: Input, ctx: IamCallContext, key = 'UserName'): Promise<string> {
  const name = str(input, key) ?? ctx.principal.userName
  return name ? userArnOf(ctx, name) : Promise.resolve(userArn(ctx, '*'))
}

export const noSuchUser = (name: string) =>
  new NoSuchEntity(`The user with name ${name} cannot be found.`)

const deleteConflicts = {
  'has-keys': 'Cannot delete entity, must delete access keys first.',
  'has-policies': 'Cannot delete entity, must delete policies first.',
  'has-attachments': 'Cannot delete entity, must detach all policies first.',
} as const

export const userOperations: Record<string, IamOperation> = {
  CreateUser: {
    service: 'iam',
    authorize: (input, ctx) => ({
      action: 'iam:CreateUser',
      resource: userArn(ctx, required(input, 'UserName'), str(input, 'Path')),
    }),
    async handle(input, ctx) {
      const name = required(input, 'UserName')
      const path = str(input, 'Path') ?? '/'
      const user = {
        id: iamId('AIDA'),
        accountId: ctx.principal.accountId,
        name,
        path,
        arn: userArn(ctx, name, path),
        createdAt: ctx.now(),
      }
      const result = await ctx.store.iam.users.create(user, ctx.limits.users)
      if (result === 'exists')
        throw new EntityAlreadyExists(`User with name ${name} already exists.`)
      if (result === 'quota-exceeded')
        throw new LimitExceeded(`Cannot exceed quota for UsersPerAccount: ${ctx.limits.users}`)
      return { User: userXml(user, input['Tags']) }
    },
  },
  GetUser: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:GetUser',
      resource: await userResource(input, ctx),
    }),
    async handle(input, ctx) {
      const name = str(input, 'UserName') ?? ctx.principal.userName
      if (!name && ctx.principal.kind === 'root')
        return {
          User: {
            UserId: ctx.principal.accountId,
            Arn: ctx.principal.arn,
            CreateDate: new Date(0),
          },
        }
      if (!name)
        throw new NoSuchEntity(
          'Temporary credentials do not belong to a user; name one with UserName.',
        )
      const user = await ctx.store.iam.users.get(ctx.principal.accountId, name)
      if (!user) throw noSuchUser(name)
      return { User: userXml(user) }
    },
  },
  ListUsers: {
    service: 'iam',
    authorize: (_input, ctx) => ({ action: 'iam:ListUsers', resource: userArn(ctx, '*') }),
    async handle(input, ctx) {
      const limit = maxItems(input)
      const rows = await ctx.store.iam.users.list(
        ctx.principal.accountId,
        str(input, 'PathPrefix') ?? '/',
        decodeMarker(str(input, 'Marker')),
        limit + 1,
      )
      const p = page(rows, limit)
      return { Users: p.items.map((u) => userXml(u)), IsTruncated: p.IsTruncated, Marker: p.Marker }
    },
  },
  DeleteUser: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:DeleteUser',
      resource: await userResource(input, ctx),
    }),
    async handle(input, ctx) {
      const name = required(input, 'UserName')
      const result = await ctx.store.iam.users.delete(ctx.principal.accountId, name)
      if (result === 'not-found') throw noSuchUser(name)
      if (result !== 'deleted') throw new DeleteConflict(deleteConflicts[result])
      return undefined
    },
  },
  CreateAccessKey: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:CreateAccessKey',
      resource: await userResource(input, ctx),
    }),
    async handle(input, ctx) {
      const name = keyOwner(input, ctx)
      const user = await ctx.store.iam.users.get(ctx.principal.accountId, name)
      if (!user) throw noSuchUser(name)
      const secret = newSecretAccessKey()
      const key = {
        accessKeyId: newAccessKeyId(),
        accountId: ctx.principal.accountId,
        principalArn: user.arn,
        secretCiphertext: ctx.masterKey.encrypt(secret),
        status: 'Active' as const,
        createdAt: ctx.now(),
        kind: 'user' as const,
        userName: name,
      }
      const result = await ctx.store.accessKeys.createForUser(key, ctx.limits.accessKeysPerUser)
      if (result === 'no-user') throw noSuchUser(name)
      if (result === 'limit-exceeded')
        throw new LimitExceeded(
          `Cannot exceed quota for AccessKeysPerUser: ${ctx.limits.accessKeysPerUser}`,
        )
      return {
        AccessKey: {
          UserName: name,
          AccessKeyId: key.accessKeyId,
          Status: 'Active',
          SecretAccessKey: secret,
          CreateDate: new Date(key.createdAt),
        },
      }
    },
  },
  ListAccessKeys: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:ListAccessKeys',
      resource: await userResource(input, ctx),
    }),
    async handle(input, ctx) {
      const name = keyOwner(input, ctx)
      if (!(await ctx.store.iam.users.get(ctx.principal.accountId, name))) throw noSuchUser(name)
      const keys = await ctx.store.accessKeys.listForUser(ctx.principal.accountId, name)
      return {
        AccessKeyMetadata: keys.map((k) => ({
          UserName: name,
          AccessKeyId: k.accessKeyId,
          Status: k.status,
          CreateDate: new Date(k.createdAt),
        })),
        IsTruncated: false,
      }
    },
  },
  GetAccessKeyLastUsed: {
    service: 'iam',
    // Authorized in `handle`, on the key owner's real ARN; a denial names the key, not its owner.
    async handle(input, ctx) {
      const id = required(input, 'AccessKeyId')
      await authorizeOnKeyOwner(ctx, 'iam:GetAccessKeyLastUsed', id)
      const key = await ctx.store.accessKeys.get(id)
      // As on AWS (the model lists no error for this call), a key that is not a user key of this
      // account is refused like a key the caller may not read: nothing says whether it exists.
      if (!key || key.accountId !== ctx.principal.accountId || key.kind !== 'user')
        throw new AccessDeniedException(
          `User: ${ctx.principal.arn} is not authorized to perform: iam:GetAccessKeyLastUsed on the access key ${id}`,
        )
      return {
        UserName: key.userName ?? undefined,
        AccessKeyLastUsed: key.lastUsedAt
          ? { LastUsedDate: new Date(key.lastUsedAt), ServiceName: 'junction', Region: ctx.region }
          : { ServiceName: 'N/A', Region: 'N/A' },
      }
    },
  },
  UpdateAccessKey: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:UpdateAccessKey',
      resource: await userResource(input, ctx),
    }),
    async handle(input, ctx) {
      const name = keyOwner(input, ctx)
      const id = required(input, 'AccessKeyId')
      if (
        !(await ctx.store.accessKeys.setStatus(
          ctx.principal.accountId,
          name,
          id,
          required(input, 'Status') as 'Active' | 'Inactive',
        ))
      )
        throw new NoSuchEntity(`The Access Key with id ${id} cannot be found.`)
      ctx.credentials.invalidate(id)
      return undefined
    },
  },
  DeleteAccessKey: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:DeleteAccessKey',
      resource: await userResource(input, ctx),
    }),
    async handle(input, ctx) {
      const name = keyOwner(input, ctx)
      const id = required(input, 'AccessKeyId')
      if (!(await ctx.store.accessKeys.delete(ctx.principal.accountId, name, id)))
        throw new NoSuchEntity(`The Access Key with id ${id} cannot be found.`)
      ctx.credentials.invalidate(id)
      return undefined
    },
  },
}
