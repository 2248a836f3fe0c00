import { findConnection } from '../domain/resources.js'
import { connectionToWire } from '../domain/wire.js'
import { defineOperation } from './operation.js'

export const getConnection = defineOperation('GetConnection', async (input, ctx) => ({
  Connection: connectionToWire(await findConnection(ctx, input.ConnectionArn)),
}))
