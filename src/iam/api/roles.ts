/**
 * @module iam/api/roles
 * IAM roles with their trust (assume-role) policies.
 */
import { iamArn } from '../principal.js'
import { roleArnOf } from './arns.js'
import type { IamCallContext, IamOperation } from './context.js'
import {
  checkPolicy,
  decodeMarker,
  iamId,
  maxItems,
  page,
  required,
  roleXml,
  str,
} from './common.js'
import { DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity } from './errors.js'

export const roleArn = (ctx: IamCallContext, name: string, path = '/') =>
  iamArn(ctx.partition, ctx.principal.accountId, 'role', path, name)

export const noSuchRole = (name: string) =>
  new NoSuchEntity(`The role with name ${name} cannot be found.`)

const TRUST_POLICY_BYTES = 2048

export const roleOperations: Record<string, IamOperation> = {
  CreateRole: {
    service: 'iam',
    authorize: (input, ctx) => ({
      action: 'iam:CreateRole',
      resource: roleArn(ctx, required(input, 'RoleName'), str(input, 'Path')),
    }),
    async handle(input, ctx) {
      const name = required(input, 'RoleName')
      const path = str(input, 'Path') ?? '/'
      const trust = required(input, 'AssumeRolePolicyDocument')
      checkPolicy(trust, 'trust', TRUST_POLICY_BYTES, `role ${name}`)
      const role = {
        id: iamId('AROA'),
        accountId: ctx.principal.accountId,
        name,
        path,
        arn: roleArn(ctx, name, path),
        assumeRolePolicy: trust,
        description: str(input, 'Description') ?? null,
        maxSessionDuration: (input['MaxSessionDuration'] as number | undefined) ?? 3600,
        createdAt: ctx.now(),
      }
      const result = await ctx.store.iam.roles.create(role, ctx.limits.roles)
      if (result === 'exists')
        throw new EntityAlreadyExists(`Role with name ${name} already exists.`)
      if (result === 'quota-exceeded')
        throw new LimitExceeded(`Cannot exceed quota for RolesPerAccount: ${ctx.limits.roles}`)
      return { Role: roleXml(role, input['Tags']) }
    },
  },
  GetRole: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:GetRole',
      resource: await roleArnOf(ctx, required(input, 'RoleName')),
    }),
    async handle(input, ctx) {
      const name = required(input, 'RoleName')
      const role = await ctx.store.iam.roles.get(ctx.principal.accountId, name)
      if (!role) throw noSuchRole(name)
      return { Role: roleXml(role) }
    },
  },
  ListRoles: {
    service: 'iam',
    authorize: (_input, ctx) => ({ action: 'iam:ListRoles', resource: roleArn(ctx, '*') }),
    async handle(input, ctx) {
      const limit = maxItems(input)
      const rows = await ctx.store.iam.roles.list(
        ctx.principal.accountId,
        str(input, 'PathPrefix') ?? '/',
        decodeMarker(str(input, 'Marker')),
        limit + 1,
      )
      const p = page(rows, limit)
      return { Roles: p.items.map((r) => roleXml(r)), IsTruncated: p.IsTruncated, Marker: p.Marker }
    },
  },
  DeleteRole: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:DeleteRole',
      resource: await roleArnOf(ctx, required(input, 'RoleName')),
    }),
    async handle(input, ctx) {
      const name = required(input, 'RoleName')
      const result = await ctx.store.iam.roles.delete(ctx.principal.accountId, name)
      if (result === 'not-found') throw noSuchRole(name)
      if (result === 'has-policies')
        throw new DeleteConflict('Cannot delete entity, must delete policies first.')
      if (result === 'has-attachments')
        throw new DeleteConflict('Cannot delete entity, must detach all policies first.')
      return undefined
    },
  },
  UpdateAssumeRolePolicy: {
    service: 'iam',
    authorize: async (input, ctx) => ({
      action: 'iam:UpdateAssumeRolePolicy',
      resource: await roleArnOf(ctx, required(input, 'RoleName')),
    }),
    async handle(input, ctx) {
      const name = required(input, 'RoleName')
      const doc = required(input, 'PolicyDocument')
      checkPolicy(doc, 'trust', TRUST_POLICY_BYTES, `role ${name}`)
      if (!(await ctx.store.iam.roles.setTrustPolicy(ctx.principal.accountId, name, doc)))
        throw noSuchRole(name)
      return undefined
    },
  },
}
