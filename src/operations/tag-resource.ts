import { checkTagKeys } from '../domain/tags.js'
import { LimitExceededException, ResourceNotFoundException } from '../generated/errors.js'
import { defineOperation } from './operation.js'

export const tagResource = defineOperation('TagResource', async (input, ctx) => {
  checkTagKeys(input.Tags.map((t) => t.Key))
  const result = await ctx.store.tags.put(
    ctx.accountId,
    input.ResourceArn,
    input.Tags,
    ctx.limits.tagsPerResource,
  )
  if (result === 'not-found')
    throw new ResourceNotFoundException(`Resource ${input.ResourceArn} does not exist`)
  if (result === 'limit-exceeded')
    throw new LimitExceededException(
      `A resource can have at most ${ctx.limits.tagsPerResource} tags; ${input.ResourceArn} would have more`,
    )
  return {}
})
