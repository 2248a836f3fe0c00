/**
 * @module audit/cloudtrail-api
 * CloudTrail's API on the main endpoint (AWS JSON 1.1, `X-Amz-Target:
 * com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>` or the short
 * `CloudTrail_20131101.<Operation>`, SigV4 service `cloudtrail`): `LookupEvents` only, authorized
 * as `cloudtrail:LookupEvents` (the root may; an IAM user or role needs a policy), answering with
 * the caller's own account's events.
 */
import { UnknownOperationException } from '../errors/common.js'
import { cloudtrailMetadata, cloudtrailValidation } from '../generated/cloudtrail.js'
import type { Authorizer } from '../iam/authorizer.js'
import type { Principal } from '../iam/principal.js'
import { parseJsonBody } from '../protocol/json-body.js'
import type { SigV4Verifier } from '../protocol/sigv4/verify.js'
import { validateInput } from '../protocol/validate.js'
import type { ApiRequest } from '../server/api.js'
import { checkLookupInput, lookupEvents, type LookupAnswer, type LookupDeps } from './lookup.js'

export const CLOUDTRAIL_CONTENT_TYPE = `application/x-amz-json-${cloudtrailMetadata.jsonVersion}`
export const CLOUDTRAIL_EVENT_SOURCE = 'cloudtrail.amazonaws.com'

export interface CloudTrailDeps extends LookupDeps {
  verifier: SigV4Verifier<Principal>
  authorizer: Authorizer
  region: string
}

export function isCloudTrailTarget(target: string | undefined): boolean {
  return (
    !!target &&
    (target.startsWith(`${cloudtrailMetadata.targetPrefix}.`) ||
      target.startsWith(`${cloudtrailMetadata.shortTargetPrefix}.`))
  )
}

export async function runCloudTrailChain(r: ApiRequest, deps: CloudTrailDeps): Promise<void> {
  const target = r.req.headers['x-amz-target'] as string
  const operation = target.slice(target.lastIndexOf('.') + 1)
  if (!Object.hasOwn(cloudtrailValidation.operations, operation))
    throw new UnknownOperationException(
      `Operation ${JSON.stringify(target.slice(0, 200))} is not supported by Junction's CloudTrail`,
    )
  ;(r as { operation?: string }).operation = operation
  const verified = await deps.verifier.verify(
    {
      method: r.req.method ?? 'POST',
      url: r.req.url ?? '/',
      headers: r.req.headers,
      rawHeaders: r.req.rawHeaders,
      body: r.body,
    },
    cloudtrailMetadata.signingName,
  )
  r.principal = verified.record
  const input = parseJsonBody(r.body)
  r.input = input
  r.output = await lookupAs(deps, verified.record, r.req.socket.remoteAddress, input)
}

/**
 * LookupEvents for a principal already authenticated (the API chain above, or the console's
 * session): the input checked against the model, the caller authorized as `cloudtrail:LookupEvents`.
 */
export async function lookupAs(
  deps: CloudTrailDeps,
  principal: Principal,
  sourceIp: string | undefined,
  input: Record<string, unknown>,
): Promise<LookupAnswer> {
  // The faults with their own modelled errors first, then every other constraint of the model.
  checkLookupInput(input)
  validateInput(cloudtrailValidation, 'LookupEvents', input)
  if (principal.kind !== 'root') {
    const compiled = await deps.authorizer.compiled(principal)
    const context = deps.authorizer.baseContext(principal, compiled, {
      ...(sourceIp ? { sourceIp } : {}),
      region: deps.region,
    })
    deps.authorizer.enforce(principal, compiled, {
      action: 'cloudtrail:LookupEvents',
      resource: '*',
      context,
    })
  }
  return lookupEvents(principal.accountId, input, deps)
}
