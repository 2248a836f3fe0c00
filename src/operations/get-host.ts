import { findHost } from '../domain/resources.js'
import { hostToWire } from '../domain/wire.js'
import { defineOperation } from './operation.js'

// GetHost answers without HostArn and StatusMessage, unlike ListHosts (spec §10 quirk list).
export const getHost = defineOperation('GetHost', async (input, ctx) => {
  const {
    HostArn: _arn,
    StatusMessage: _message,
    ...host
  } = hostToWire(await findHost(ctx, input.HostArn), ctx.now())
  return host
})
