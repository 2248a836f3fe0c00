import { buildArn } from '../domain/arn.js'
import { isVpcStatus, effectiveHostStatus } from '../domain/host-status.js'
import { newConnectionId } from '../domain/ids.js'
import { findHost, reserveNewId } from '../domain/resources.js'
import { checkNewResourceTags } from '../domain/tags.js'
import { ValidationException } from '../errors/common.js'
import {
  LimitExceededException,
  ResourceNotFoundException,
  ResourceUnavailableException,
} from '../generated/errors.js'
import type { ProviderType } from '../generated/shapes.js'
import { defineOperation } from './operation.js'

/** Provider types installed on the customer's infrastructure: they need a host. */
export const HOST_PROVIDER_TYPES: readonly ProviderType[] = [
  'GitHubEnterpriseServer',
  'GitLabSelfManaged',
]

export const createConnection = defineOperation('CreateConnection', async (input, ctx) => {
  const tags = input.Tags ?? []
  checkNewResourceTags(tags, ctx.limits.tagsPerResource)

  let providerType = input.ProviderType
  if (input.HostArn !== undefined) {
    const host = await findHost(ctx, input.HostArn)
    const status = effectiveHostStatus(host, ctx.now())
    // A PENDING host is accepted: the console creates the connection before the host is set up.
    if (isVpcStatus(status))
      throw new ResourceUnavailableException(
        `Host ${host.arn} is ${status} and cannot take new connections until it is PENDING or AVAILABLE`,
      )
    if (providerType !== undefined && providerType !== host.providerType)
      throw new ValidationException(
        `ProviderType ${providerType} does not match the provider type of host ${host.arn} (${host.providerType})`,
      )
    providerType = host.providerType as ProviderType
  } else if (providerType === undefined) {
    throw new ValidationException('Either ProviderType or HostArn must be specified')
  } else if (HOST_PROVIDER_TYPES.includes(providerType)) {
    throw new ValidationException(
      `A HostArn is required for connections of provider type ${providerType}`,
    )
  }

  const id = await reserveNewId(ctx, newConnectionId)
  const arn = buildArn(ctx, 'connection', id)
  const result = await ctx.store.connections.create(
    {
      id,
      accountId: ctx.accountId,
      arn,
      name: input.ConnectionName,
      providerType,
      hostArn: input.HostArn ?? null,
      status: 'PENDING',
      ownerAccountId: ctx.accountId,
      createdAt: ctx.now(),
    },
    tags,
    ctx.limits.connections,
  )
  switch (result) {
    case 'quota-exceeded':
      throw new LimitExceededException(
        `Exceeded the maximum limit for connections: account ${ctx.accountId} already has ${ctx.limits.connections} connections`,
      )
    case 'name-taken':
      throw new ValidationException(
        `Connection name already exists: a connection named '${input.ConnectionName}' exists in account ${ctx.accountId}`,
      )
    case 'host-not-found':
      throw new ResourceNotFoundException(`Host ${input.HostArn} does not exist`)
    case 'created':
      return input.Tags ? { ConnectionArn: arn, Tags: input.Tags } : { ConnectionArn: arn }
  }
})
