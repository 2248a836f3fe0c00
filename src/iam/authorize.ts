/**
 * @module iam/authorize
 * The authorization step. Every API call passes through `authorize` with the IAM action name (the
 * service prefix of the resource or endpoint, then the operation) and the resource ARN. The
 * account root may do everything, as in AWS; other principals are denied with AWS's message until
 * policies exist.
 */
import { AccessDeniedException } from '../generated/errors.js'
import type { Principal } from './principal.js'

export interface AuthorizationRequest {
  principal: Principal
  /** e.g. `codestar-connections:GetConnection` */
  action: string
  /** The resource ARN, or `*` for account-level actions. */
  resource: string
}

export function authorize(req: AuthorizationRequest): void {
  if (req.principal.isRoot) return
  throw new AccessDeniedException(
    `User: ${req.principal.arn} is not authorized to perform: ${req.action} on resource: ${req.resource} because no identity-based policy allows the ${req.action} action`,
  )
}

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
