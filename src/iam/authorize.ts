/**
 * @module iam/authorize
 * Action names: a call is authorized as `<prefix>:<Operation>`, where the prefix is the service of
 * the resource's ARN (`codestar-connections` or `codeconnections`), or of the endpoint called for
 * account-level actions such as Create* and List* (spec §4/§6).
 */

/** The ARN prefix an action is named after: the resource's own, or the endpoint's for creates. */
export function actionPrefix(resourceArn: string | undefined, endpointService: string): string {
  if (resourceArn?.startsWith('arn:')) {
    // arn:<partition>:<service>:… — the third field, found without splitting the whole ARN.
    const start = resourceArn.indexOf(':', 4) + 1
    const service = resourceArn.slice(start, resourceArn.indexOf(':', start))
    if (service === 'codestar-connections' || service === 'codeconnections') return service
  }
  return endpointService
}
