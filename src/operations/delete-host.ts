import { effectiveHostStatus, isTransitional } from '../domain/host-status.js'
import { findHost } from '../domain/resources.js'
import { ResourceNotFoundException, ResourceUnavailableException } from '../generated/errors.js'
import { defineOperation } from './operation.js'

export const deleteHost = defineOperation('DeleteHost', async (input, ctx) => {
  const host = await findHost(ctx, input.HostArn)
  const status = effectiveHostStatus(host, ctx.now())
  if (isTransitional(status))
    throw new ResourceUnavailableException(
      `Host ${host.arn} is ${status} and cannot be deleted until it settles`,
    )
  switch (await ctx.store.hosts.delete(ctx.accountId, host.arn)) {
    case 'in-use':
      throw new ResourceUnavailableException(
        `Host ${host.arn} still has connections; delete the connections that use it first`,
      )
    case 'not-found':
      throw new ResourceNotFoundException(`Host ${input.HostArn} does not exist`)
    case 'deleted':
      return {}
  }
})
