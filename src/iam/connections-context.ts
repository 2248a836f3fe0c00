/**
 * @module iam/connections-context
 * The request context of each connections API call (spec §6): tag keys, provider type, host,
 * VPC, list filters, under both service prefixes so that `codestar-connections:ProviderType` and
 * `codeconnections:ProviderType` both work, plus `aws:ResourceTag/…` when a policy reads it.
 */
import type { OperationName } from '../generated/operations.js'
import type { Store } from '../store/store.js'
import type { RequestContext } from './policy/context.js'

const PREFIXES = ['codestar-connections', 'codeconnections']

function setBoth(ctx: RequestContext, key: string, value: string | undefined): void {
  if (value === undefined) return
  for (const p of PREFIXES) ctx.set(`${p}:${key}`, value)
}

function setRequestTags(ctx: RequestContext, tags: unknown): void {
  if (!Array.isArray(tags)) return
  const list = tags as { Key: string; Value: string }[]
  for (const t of list) ctx.set(`aws:RequestTag/${t.Key}`, t.Value)
  ctx.set(
    'aws:TagKeys',
    list.map((t) => t.Key),
  )
}

/** Adds the operation's own keys to `ctx` (everything but resource tags). */
export function addConnectionsKeys(
  ctx: RequestContext,
  op: OperationName,
  input: Record<string, unknown>,
): void {
  const vpc = (input['VpcConfiguration'] as { VpcId?: string } | undefined)?.VpcId
  switch (op) {
    case 'CreateConnection':
      setBoth(ctx, 'ProviderType', input['ProviderType'] as string | undefined)
      setBoth(ctx, 'HostArn', input['HostArn'] as string | undefined)
      setRequestTags(ctx, input['Tags'])
      break
    case 'CreateHost':
      setBoth(ctx, 'ProviderType', input['ProviderType'] as string | undefined)
      setBoth(ctx, 'VpcId', vpc)
      setRequestTags(ctx, input['Tags'])
      break
    case 'UpdateHost':
      setBoth(ctx, 'VpcId', vpc)
      break
    case 'ListConnections':
      setBoth(ctx, 'ProviderTypeFilter', input['ProviderTypeFilter'] as string | undefined)
      setBoth(ctx, 'HostArn', input['HostArnFilter'] as string | undefined)
      break
    case 'TagResource':
      setRequestTags(ctx, input['Tags'])
      break
    case 'UntagResource':
      if (Array.isArray(input['TagKeys'])) ctx.set('aws:TagKeys', input['TagKeys'] as string[])
      break
    default:
      break
  }
}

/** Adds `aws:ResourceTag/<key>` for every tag of the resource (when it exists). */
export async function addResourceTags(
  ctx: RequestContext,
  store: Store,
  accountId: string,
  resource: string,
): Promise<void> {
  if (!resource.startsWith('arn:')) return
  for (const t of (await store.tags.list(accountId, resource)) ?? [])
    ctx.set(`aws:ResourceTag/${t.Key}`, t.Value)
}
