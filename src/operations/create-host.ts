import { buildArn } from '../domain/arn.js'
import { newHostId } from '../domain/ids.js'
import { reserveNewId } from '../domain/resources.js'
import { checkNewResourceTags } from '../domain/tags.js'
import { vpcFromWire } from '../domain/wire.js'
import { ValidationException } from '../errors/common.js'
import { LimitExceededException } from '../generated/errors.js'
import { HOST_PROVIDER_TYPES } from './create-connection.js'
import { defineOperation } from './operation.js'

/** A provider endpoint must be an absolute http(s) URL. */
export function checkProviderEndpoint(endpoint: string): void {
  let url: URL | undefined
  try {
    url = new URL(endpoint)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname)
    throw new ValidationException(
      `ProviderEndpoint must be an absolute http or https URL, such as https://git.example.com: '${endpoint.slice(0, 128)}'`,
    )
}

export const createHost = defineOperation('CreateHost', async (input, ctx) => {
  const tags = input.Tags ?? []
  checkNewResourceTags(tags, ctx.limits.tagsPerResource)
  if (!HOST_PROVIDER_TYPES.includes(input.ProviderType))
    throw new ValidationException(
      `Hosts are for installed providers (${HOST_PROVIDER_TYPES.join(', ')}), not ${input.ProviderType}`,
    )
  checkProviderEndpoint(input.ProviderEndpoint)

  const id = await reserveNewId(ctx, () => newHostId(input.Name))
  const arn = buildArn(ctx, 'host', id)
  const now = ctx.now()
  const result = await ctx.store.hosts.create(
    {
      id,
      accountId: ctx.accountId,
      arn,
      name: input.Name,
      providerType: input.ProviderType,
      providerEndpoint: input.ProviderEndpoint,
      vpcConfiguration: input.VpcConfiguration ? vpcFromWire(input.VpcConfiguration) : null,
      // Junction provisions no real VPC: the host settles to PENDING after a short delay.
      status: input.VpcConfiguration ? 'VPC_CONFIG_INITIALIZING' : 'PENDING',
      statusMessage: null,
      statusSettlesAt: input.VpcConfiguration ? now + ctx.vpcInitDelayMs : null,
      createdAt: now,
    },
    tags,
    ctx.limits.hosts,
  )
  if (result === 'quota-exceeded')
    throw new LimitExceededException(
      `Exceeded the maximum limit for hosts: account ${ctx.accountId} already has ${ctx.limits.hosts} hosts`,
    )
  return input.Tags ? { HostArn: arn, Tags: input.Tags } : { HostArn: arn }
})
