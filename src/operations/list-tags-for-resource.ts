import { ResourceNotFoundException } from '../generated/errors.js'
import { defineOperation } from './operation.js'

export const listTagsForResource = defineOperation('ListTagsForResource', async (input, ctx) => {
  const tags = await ctx.store.tags.list(ctx.accountId, input.ResourceArn)
  if (!tags) throw new ResourceNotFoundException(`Resource ${input.ResourceArn} does not exist`)
  return { Tags: tags }
})
