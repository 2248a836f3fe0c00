import { ResourceNotFoundException } from '../generated/errors.js'
import { defineOperation } from './operation.js'

export const deleteConnection = defineOperation('DeleteConnection', async (input, ctx) => {
  if (!(await ctx.store.connections.delete(ctx.accountId, input.ConnectionArn)))
    throw new ResourceNotFoundException(`Connection ${input.ConnectionArn} does not exist`)
  ctx.onConnectionDeleted?.()
  return {}
})
