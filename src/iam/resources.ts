/**
 * @module iam/resources
 * The input member naming the resource each operation acts on, for the IAM check. Operations not
 * listed act on the account (`*`).
 */
import type { OperationName } from '../generated/operations.js'

const resourceMember: Partial<Record<OperationName, string>> = {
  GetConnection: 'ConnectionArn',
  DeleteConnection: 'ConnectionArn',
  GetHost: 'HostArn',
  UpdateHost: 'HostArn',
  DeleteHost: 'HostArn',
  TagResource: 'ResourceArn',
  UntagResource: 'ResourceArn',
  ListTagsForResource: 'ResourceArn',
}

export function resourceOf(operation: OperationName, input: Record<string, unknown>): string {
  const member = resourceMember[operation]
  const value = member ? input[member] : undefined
  return typeof value === 'string' ? value : '*'
}
