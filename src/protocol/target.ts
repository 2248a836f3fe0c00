/**
 * @module protocol/target
 * Routes `X-Amz-Target`. Both the long botocore prefix and the short Smithy prefix of each service
 * are accepted (spec §1); the operation is the text after the last `.`.
 */
import {
  operationNames,
  serviceMetadata,
  type OperationName,
  type ServiceName,
} from '../generated/operations.js'
import { UnknownOperationException } from '../errors/common.js'

const prefixes = new Map<string, ServiceName>()
for (const [service, md] of Object.entries(serviceMetadata) as [
  ServiceName,
  (typeof serviceMetadata)[ServiceName],
][]) {
  prefixes.set(md.targetPrefix, service)
  prefixes.set(md.shortTargetPrefix, service)
}
const operations = new Set<string>(operationNames)

export interface Target {
  service: ServiceName
  operation: OperationName
}

export function parseTarget(header: string | undefined): Target {
  if (!header) throw new UnknownOperationException('Missing X-Amz-Target header')
  const dot = header.lastIndexOf('.')
  const service = dot > 0 ? prefixes.get(header.slice(0, dot)) : undefined
  const operation = header.slice(dot + 1)
  if (!service || !operations.has(operation))
    throw new UnknownOperationException(
      `Operation ${JSON.stringify(header.slice(0, 200))} is not recognized`,
    )
  return { service, operation: operation as OperationName }
}
