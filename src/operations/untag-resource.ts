import { ResourceNotFoundException } from '../generated/errors.js'
import { defineOperation } from './operation.js'

// Keys the resource does not have are ignored.
export const untagResource = defineOperation('UntagResource', async (input, ctx) => {
  if (!(await ctx.store.tags.remove(ctx.accountId, input.ResourceArn, input.TagKeys)))
    throw new ResourceNotFoundException(`Resource ${input.ResourceArn} does not exist`)
  return {}
})
