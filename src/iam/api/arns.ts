/**
 * @module iam/api/arns
 * The ARNs IAM calls are authorized on: a user's or role's real ARN, its path included, read from
 * the store (as AWS does), so that a policy on `user/admins/*` governs every user created with
 * `--path /admins/`. A user or role that does not exist is authorized on its path-less ARN; the
 * call then fails with NoSuchEntity only once authorized, so an unauthorized caller is told
 * AccessDenied whether or not it exists.
 */
import { AccessDeniedException } from '../../generated/errors.js'
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
 * Authorizes `action` on the real ARN of the user an access key belongs to (`user/*` for a key
 * that is not a user key of this account: the call then fails with NoSuchEntity). A denial names
 * the key, never its owner, so it says nothing of who owns the key or whether it exists.
 */
export async function authorizeOnKeyOwner(
  ctx: IamCallContext,
  action: string,
  accessKeyId: string,
): Promise<void> {
  const p = ctx.principal
  if (p.kind === 'root') return
  const key = await ctx.store.accessKeys.get(accessKeyId)
  const resource =
    key && key.accountId === p.accountId && key.kind === 'user' && key.userName
      ? await userArnOf(ctx, key.userName)
      : pathless(ctx, 'user', '*')
  const compiled = await ctx.authorizer.compiled(p)
  const context = ctx.authorizer.baseContext(p, compiled, {
    sourceIp: ctx.sourceIp,
    region: ctx.region,
  })
  if (ctx.authorizer.decide(p, compiled, { action, resource, context }).message)
    throw new AccessDeniedException(
      `User: ${p.arn} is not authorized to perform: ${action} on the access key ${accessKeyId}`,
    )
}
