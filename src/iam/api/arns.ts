/**
 * @module iam/api/arns
 * The ARNs IAM calls are authorized on: a user's or role's real ARN, its path included, read from
 * the store (as AWS does), so that a policy on `user/admins/*` governs every user created with
 * `--path /admins/`. A user or role that does not exist is authorized on its path-less ARN; the
 * call then fails with NoSuchEntity only once authorized, so an unauthorized caller is told
 * AccessDenied whether or not it exists.
 */
import { iamArn } from '../principal.js'
import type { IamCallContext } from './context.js'

const pathless = (ctx: IamCallContext, type: 'user' | 'role', name: string) =>
  iamArn(ctx.partition, ctx.principal.accountId, type, '/', name)

/** The real ARN of user `name`, or its path-less ARN when there is no such user. */
export async function userArnOf(ctx: IamCallContext, name: string): Promise<string> {
  const user = await ctx.store.iam.users.get(ctx.principal.accountId, name)
  return user?.arn ?? pathless(ctx, 'user', name)
}

/** The real ARN of role `name`, or its path-less ARN when there is no such role. */
export async function roleArnOf(ctx: IamCallContext, name: string): Promise<string> {
  const role = await ctx.store.iam.roles.get(ctx.principal.accountId, name)
  return role?.arn ?? pathless(ctx, 'role', name)
}

/**
 * The real ARN of the user an access key belongs to; `user/*` for a key that is not a user key
 * of this account (the call then fails with NoSuchEntity, once authorized).
 */
export async function keyUserArnOf(ctx: IamCallContext, accessKeyId: string): Promise<string> {
  const key = await ctx.store.accessKeys.get(accessKeyId)
  if (key && key.accountId === ctx.principal.accountId && key.kind === 'user' && key.userName)
    return userArnOf(ctx, key.userName)
  return pathless(ctx, 'user', '*')
}
