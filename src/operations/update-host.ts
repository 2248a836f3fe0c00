import { effectiveHostStatus, isTransitional } from '../domain/host-status.js'
import { findHost } from '../domain/resources.js'
import { vpcFromWire } from '../domain/wire.js'
import { ValidationException } from '../errors/common.js'
import { ConflictException, ResourceNotFoundException } from '../generated/errors.js'
import type { HostRecord } from '../store/store.js'
import { checkProviderEndpoint } from './create-host.js'
import { defineOperation } from './operation.js'

export const updateHost = defineOperation('UpdateHost', async (input, ctx) => {
  if (input.ProviderEndpoint === undefined && input.VpcConfiguration === undefined)
    throw new ValidationException(
      'UpdateHost needs a ProviderEndpoint or a VpcConfiguration to change',
    )
  const host = await findHost(ctx, input.HostArn)
  const now = ctx.now()
  const status = effectiveHostStatus(host, now)
  if (isTransitional(status))
    throw new ConflictException(`Host ${host.arn} is ${status}; update it once it has settled`)
  const changes: Parameters<typeof ctx.store.hosts.update>[2] = {}
  if (input.ProviderEndpoint !== undefined) {
    checkProviderEndpoint(input.ProviderEndpoint)
    changes.providerEndpoint = input.ProviderEndpoint
    // A host registered with a provider app is tied to its URL: a new URL must be set up again.
    if (input.ProviderEndpoint !== host.providerEndpoint && status === 'AVAILABLE') {
      changes.status = 'PENDING'
      changes.statusMessage = 'The provider endpoint changed; set the host up again'
    }
  }
  if (input.VpcConfiguration !== undefined) {
    changes.vpcConfiguration = vpcFromWire(input.VpcConfiguration)
    changes.status = 'VPC_CONFIG_INITIALIZING'
    changes.statusSettlesAt = now + ctx.vpcInitDelayMs
  } else if (status !== host.status) {
    // Persist a status that has settled since it was stored.
    changes.status ??= status as HostRecord['status']
  }
  if (!(await ctx.store.hosts.update(ctx.accountId, host.arn, changes)))
    throw new ResourceNotFoundException(`Host ${input.HostArn} does not exist`)
  return {}
})
