/**
 * @module domain/arn
 * Connection and host ARNs: `arn:<partition>:<service>:<region>:<account>:<type>/<id>`. The service
 * is the prefix of the endpoint a resource was created through (`codestar-connections` or
 * `codeconnections`) and stays with the resource.
 */
export type ArnService = 'codestar-connections' | 'codeconnections'
export type ResourceType = 'connection' | 'host'

export interface ParsedArn {
  partition: string
  service: string
  region: string
  accountId: string
  resourceType: string
  resourceId: string
}

export function buildArn(
  p: { partition: string; service: ArnService; region: string; accountId: string },
  type: ResourceType,
  id: string,
): string {
  return `arn:${p.partition}:${p.service}:${p.region}:${p.accountId}:${type}/${id}`
}

/** Splits an ARN; undefined when it is not of the `arn:…:type/id` form. */
export function parseArn(arn: string): ParsedArn | undefined {
  const parts = arn.split(':')
  if (parts.length < 6 || parts[0] !== 'arn') return undefined
  const resource = parts.slice(5).join(':')
  const slash = resource.indexOf('/')
  if (slash <= 0) return undefined
  return {
    partition: parts[1]!,
    service: parts[2]!,
    region: parts[3]!,
    accountId: parts[4]!,
    resourceType: resource.slice(0, slash),
    resourceId: resource.slice(slash + 1),
  }
}
