/**
 * @module iam/api/policies
 * Inline policies of users and roles, managed policies and their attachments.
 */
import type { OwnerKind } from '../../store/store.js'
import { iamArn } from '../principal.js'
import type { IamCallContext, IamOperation, Input } from './context.js'
import {
  checkPolicy,
  decodeMarker,
  encodeDocument,
  iamId,
  maxItems,
  page,
  policyXml,
  required,
  str,
} from './common.js'
import { DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity } from './errors.js'
import { roleArnOf, userArnOf } from './arns.js'
import { noSuchRole } from './roles.js'
import { noSuchUser } from './users.js'

const ownerOf = (kind: OwnerKind) => (kind === 'user' ? 'UserName' : 'RoleName')
/** The owner's real ARN (path included), or its path-less ARN when it does not exist. */
const ownerArn = (ctx: IamCallContext, kind: OwnerKind, name: string) =>
  kind === 'user' ? userArnOf(ctx, name) : roleArnOf(ctx, name)
const noSuchOwner = (kind: OwnerKind, name: string) =>
  kind === 'user' ? noSuchUser(name) : noSuchRole(name)
const Kind = (kind: OwnerKind) => (kind === 'user' ? 'User' : 'Role')

const policyArnOf = (ctx: IamCallContext, name: string, path = '/') =>
  iamArn(ctx.partition, ctx.principal.accountId, 'policy', path, name)

const noSuchPolicy = (arn: string) =>
  new NoSuchEntity(`Policy ${arn} does not exist or is not attachable.`)

function inlineOperations(kind: OwnerKind): Record<string, IamOperation> {
  const K = Kind(kind)
  const owner = (input: Input) => required(input, ownerOf(kind))
  const auth = (action: string) => async (input: Input, ctx: IamCallContext) => ({
    action: `iam:${action}`,
    resource: await ownerArn(ctx, kind, owner(input)),
  })
  return {
    [`Put${K}Policy`]: {
      service: 'iam',
      authorize: auth(`Put${K}Policy`),
      async handle(input, ctx) {
        const name = owner(input)
        const policyName = required(input, 'PolicyName')
        const doc = required(input, 'PolicyDocument')
        // The quota covers all inline policies of the principal together.
        const others = (await ctx.store.iam.inline.list(ctx.principal.accountId, kind, name)) ?? []
        let total = doc.replace(/\s/g, '').length
        for (const other of others)
          if (other !== policyName)
            total += (
              (await ctx.store.iam.inline.get(ctx.principal.accountId, kind, name, other)) ?? ''
            ).replace(/\s/g, '').length
        const max = kind === 'user' ? ctx.limits.userInlineBytes : ctx.limits.roleInlineBytes
        checkPolicy(doc, 'identity', Number.MAX_SAFE_INTEGER, `${kind} ${name}`)
        if (total > max)
          throw new LimitExceeded(
            `Maximum policy size of ${max} bytes exceeded for ${kind} ${name}`,
          )
        if (
          (await ctx.store.iam.inline.put(ctx.principal.accountId, kind, name, policyName, doc)) ===
          'no-owner'
        )
          throw noSuchOwner(kind, name)
        return undefined
      },
    },
    [`Get${K}Policy`]: {
      service: 'iam',
      authorize: auth(`Get${K}Policy`),
      async handle(input, ctx) {
        const name = owner(input)
        const policyName = required(input, 'PolicyName')
        const doc = await ctx.store.iam.inline.get(ctx.principal.accountId, kind, name, policyName)
        if (doc === undefined)
          throw new NoSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`)
        return {
          [ownerOf(kind)]: name,
          PolicyName: policyName,
          PolicyDocument: encodeDocument(doc),
        }
      },
    },
    [`List${K}Policies`]: {
      service: 'iam',
      authorize: auth(`List${K}Policies`),
      async handle(input, ctx) {
        const name = owner(input)
        const names = await ctx.store.iam.inline.list(ctx.principal.accountId, kind, name)
        if (!names) throw noSuchOwner(kind, name)
        const after = decodeMarker(str(input, 'Marker'))
        const p = page(
          names.filter((n) => n > after).map((n) => ({ name: n })),
          maxItems(input),
        )
        return {
          PolicyNames: p.items.map((i) => i.name),
          IsTruncated: p.IsTruncated,
          Marker: p.Marker,
        }
      },
    },
    [`Delete${K}Policy`]: {
      service: 'iam',
      authorize: auth(`Delete${K}Policy`),
      async handle(input, ctx) {
        const name = owner(input)
        const policyName = required(input, 'PolicyName')
        if (!(await ctx.store.iam.inline.delete(ctx.principal.accountId, kind, name, policyName)))
          throw new NoSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`)
        return undefined
      },
    },
    [`Attach${K}Policy`]: {
      service: 'iam',
      authorize: auth(`Attach${K}Policy`),
      async handle(input, ctx) {
        const name = owner(input)
        const arn = required(input, 'PolicyArn')
        const result = await ctx.store.iam.attachments.attach(
          ctx.principal.accountId,
          kind,
          name,
          arn,
          ctx.limits.attachedPoliciesPerPrincipal,
        )
        if (result === 'no-owner') throw noSuchOwner(kind, name)
        if (result === 'no-policy') throw noSuchPolicy(arn)
        if (result === 'limit-exceeded')
          throw new LimitExceeded(
            `Cannot exceed quota for PoliciesPerUser: ${ctx.limits.attachedPoliciesPerPrincipal}`,
          )
        return undefined
      },
    },
    [`Detach${K}Policy`]: {
      service: 'iam',
      authorize: auth(`Detach${K}Policy`),
      async handle(input, ctx) {
        const name = owner(input)
        const arn = required(input, 'PolicyArn')
        if (!(await ctx.store.iam.attachments.detach(ctx.principal.accountId, kind, name, arn)))
          throw new NoSuchEntity(`Policy ${arn} was not found attached to ${kind} ${name}.`)
        return undefined
      },
    },
    [`ListAttached${K}Policies`]: {
      service: 'iam',
      authorize: auth(`ListAttached${K}Policies`),
      async handle(input, ctx) {
        const name = owner(input)
        const attached = await ctx.store.iam.attachments.list(ctx.principal.accountId, kind, name)
        if (!attached) throw noSuchOwner(kind, name)
        const after = decodeMarker(str(input, 'Marker'))
        const p = page(
          attached.filter((a) => a.name > after),
          maxItems(input),
        )
        return {
          AttachedPolicies: p.items.map((a) => ({ PolicyName: a.name, PolicyArn: a.arn })),
          IsTruncated: p.IsTruncated,
          Marker: p.Marker,
        }
      },
    },
  }
}

export const policyOperations: Record<string, IamOperation> = {
  ...inlineOperations('user'),
  ...inlineOperations('role'),
  CreatePolicy: {
    service: 'iam',
    authorize: (input, ctx) => ({
      action: 'iam:CreatePolicy',
      resource: policyArnOf(ctx, required(input, 'PolicyName'), str(input, 'Path')),
    }),
    async handle(input, ctx) {
      const name = required(input, 'PolicyName')
      const path = str(input, 'Path') ?? '/'
      const doc = required(input, 'PolicyDocument')
      checkPolicy(doc, 'identity', ctx.limits.managedPolicyBytes, `policy ${name}`)
      const now = ctx.now()
      const policy = {
        id: iamId('ANPA'),
        accountId: ctx.principal.accountId,
        name,
        path,
        arn: policyArnOf(ctx, name, path),
        document: doc,
        description: str(input, 'Description') ?? null,
        createdAt: now,
        updatedAt: now,
      }
      const result = await ctx.store.iam.policies.create(policy, ctx.limits.policies)
      if (result === 'exists')
        throw new EntityAlreadyExists(
          `A policy called ${name} already exists. Duplicate names are not allowed.`,
        )
      if (result === 'quota-exceeded')
        throw new LimitExceeded(
          `Cannot exceed quota for PoliciesPerAccount: ${ctx.limits.policies}`,
        )
      return { Policy: policyXml({ ...policy, attachmentCount: 0 }) }
    },
  },
  GetPolicy: {
    service: 'iam',
    authorize: (input) => ({ action: 'iam:GetPolicy', resource: required(input, 'PolicyArn') }),
    async handle(input, ctx) {
      const arn = required(input, 'PolicyArn')
      const p = await ctx.store.iam.policies.get(ctx.principal.accountId, arn)
      if (!p) throw new NoSuchEntity(`Policy ${arn} was not found.`)
      return { Policy: policyXml(p) }
    },
  },
  GetPolicyVersion: {
    service: 'iam',
    authorize: (input) => ({
      action: 'iam:GetPolicyVersion',
      resource: required(input, 'PolicyArn'),
    }),
    async handle(input, ctx) {
      const arn = required(input, 'PolicyArn')
      const version = required(input, 'VersionId')
      const p = await ctx.store.iam.policies.get(ctx.principal.accountId, arn)
      if (!p) throw new NoSuchEntity(`Policy ${arn} was not found.`)
      // Junction keeps one version per policy: v1, the default.
      if (version !== 'v1')
        throw new NoSuchEntity(`Policy ${arn} version ${version} does not exist.`)
      return {
        PolicyVersion: {
          Document: encodeDocument(p.document),
          VersionId: 'v1',
          IsDefaultVersion: true,
          CreateDate: new Date(p.createdAt),
        },
      }
    },
  },
  ListPolicies: {
    service: 'iam',
    authorize: (_input, ctx) => ({ action: 'iam:ListPolicies', resource: policyArnOf(ctx, '*') }),
    async handle(input, ctx) {
      const limit = maxItems(input)
      // Junction has no AWS-managed policies: Scope=AWS lists nothing.
      const rows =
        str(input, 'Scope') === 'AWS'
          ? []
          : await ctx.store.iam.policies.list(
              ctx.principal.accountId,
              {
                pathPrefix: str(input, 'PathPrefix') ?? '/',
                onlyAttached: input['OnlyAttached'] === true,
              },
              decodeMarker(str(input, 'Marker')),
              limit + 1,
            )
      const p = page(rows, limit)
      return { Policies: p.items.map(policyXml), IsTruncated: p.IsTruncated, Marker: p.Marker }
    },
  },
  DeletePolicy: {
    service: 'iam',
    authorize: (input) => ({ action: 'iam:DeletePolicy', resource: required(input, 'PolicyArn') }),
    async handle(input, ctx) {
      const arn = required(input, 'PolicyArn')
      const result = await ctx.store.iam.policies.delete(ctx.principal.accountId, arn)
      if (result === 'not-found') throw new NoSuchEntity(`Policy ${arn} was not found.`)
      if (result === 'has-attachments')
        throw new DeleteConflict('Cannot delete a policy attached to entities.')
      return undefined
    },
  },
}
