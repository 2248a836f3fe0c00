import { findHost } from '../domain/resources.js'
import { connectionToWire } from '../domain/wire.js'
import { ValidationException } from '../errors/common.js'
import { defineOperation } from './operation.js'

/** MaxResults absent or 0 means the largest page, 100. */
const DEFAULT_PAGE = 100

export const listConnections = defineOperation('ListConnections', async (input, ctx) => {
  const filters = { p: input.ProviderTypeFilter ?? null, h: input.HostArnFilter ?? null }
  if (input.HostArnFilter !== undefined) await findHost(ctx, input.HostArnFilter)
  let after = 0
  if (input.NextToken !== undefined) {
    const opened = ctx.pageTokens.open(input.NextToken, 'ListConnections', ctx.accountId, filters)
    if (opened === undefined)
      throw new ValidationException(
        'Invalid NextToken: it was not issued for this ListConnections request',
      )
    after = opened
  }
  const limit = input.MaxResults || DEFAULT_PAGE
  // Keyset pagination: one row more than the page tells whether another page follows.
  const rows = await ctx.store.connections.list(
    ctx.accountId,
    { providerType: input.ProviderTypeFilter, hostArn: input.HostArnFilter },
    after,
    limit + 1,
  )
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return rows.length > limit && last
    ? {
        Connections: page.map(connectionToWire),
        NextToken: ctx.pageTokens.issue('ListConnections', ctx.accountId, filters, last.seq),
      }
    : { Connections: page.map(connectionToWire) }
})
