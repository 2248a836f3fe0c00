import { hostToWire } from '../domain/wire.js'
import { ValidationException } from '../errors/common.js'
import { defineOperation } from './operation.js'

const DEFAULT_PAGE = 100

export const listHosts = defineOperation('ListHosts', async (input, ctx) => {
  let after = 0
  if (input.NextToken !== undefined) {
    const opened = ctx.pageTokens.open(input.NextToken, 'ListHosts', ctx.accountId, {})
    if (opened === undefined)
      throw new ValidationException(
        'Invalid NextToken: it was not issued for this ListHosts request',
      )
    after = opened
  }
  const limit = input.MaxResults || DEFAULT_PAGE
  const rows = await ctx.store.hosts.list(ctx.accountId, after, limit + 1)
  const now = ctx.now()
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  const Hosts = page.map((h) => hostToWire(h, now))
  return rows.length > limit && last
    ? { Hosts, NextToken: ctx.pageTokens.issue('ListHosts', ctx.accountId, {}, last.seq) }
    : { Hosts }
})
