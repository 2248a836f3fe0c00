/**
 * @module domain/resources
 * Creates resource ids that have never been issued before, and finds resources by ARN.
 */
import type { OperationContext } from '../operations/operation.js'
import type { ConnectionRecord, HostRecord } from '../store/store.js'
import { ResourceNotFoundException } from '../generated/errors.js'
import { InternalFailure } from '../errors/common.js'

/** Draws ids until one has never been issued (ids are never reused, even after deletion). */
export async function reserveNewId(ctx: OperationContext, draw: () => string): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = draw()
    if (await ctx.store.reserveId(id)) return id
  }
  throw new InternalFailure('Could not allocate a new resource id')
}

export async function findConnection(
  ctx: OperationContext,
  arn: string,
): Promise<ConnectionRecord> {
  const c = await ctx.store.connections.get(ctx.accountId, arn)
  if (!c) throw new ResourceNotFoundException(`Connection ${arn} does not exist`)
  return c
}

export async function findHost(ctx: OperationContext, arn: string): Promise<HostRecord> {
  const h = await ctx.store.hosts.get(ctx.accountId, arn)
  if (!h) throw new ResourceNotFoundException(`Host ${arn} does not exist`)
  return h
}
