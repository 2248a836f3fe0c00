/**
 * @module domain/arn
 * Connection and host ARNs: `arn:<partition>:<service>:<region>:<account>:<type>/<id>`. The service
 * is the prefix of the endpoint a resource was created through (`codestar-connections` or
 * `codeconnections`) and stays with the resource.
 */
export type ArnService = 'codestar-connections' | 'codeconnections'
export type ResourceType = 'connection' | 'host'

export function buildArn(
  p: { partition: string; service: ArnService; region: string; accountId: string },
  type: ResourceType,
  id: string,
): string {
  return `arn:${p.partition}:${p.service}:${p.region}:${p.accountId}:${type}/${id}`
}
