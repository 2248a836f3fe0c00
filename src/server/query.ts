/**
 * @module server/query
 * The AWS Query request chain (IAM and STS): form-encoded `POST /` without `X-Amz-Target`; the
 * service is the one named by the SigV4 credential scope. Steps: find the service → authenticate
 * → read the form → find the action → decode and validate the input → authorize → handle.
 */
import type { IncomingMessage } from 'node:http'
import { MissingAction, UnknownOperationException } from '../errors/common.js'
import {
  iamOperations,
  iamValidation,
  type IamCallContext,
  type IamLimits,
} from '../iam/api/index.js'
import type { IamOperation } from '../iam/api/context.js'
import type { CredentialResolver } from '../iam/credentials.js'
import type { MasterKey } from '../crypto/master-key.js'
import { decodeQueryInput, parseForm } from '../protocol/query/form.js'
import type { QueryService, XmlObject } from '../protocol/query/xml.js'
import { validateInput } from '../protocol/validate.js'
import type { ApiDeps, ApiRequest } from './api.js'

export interface QueryDeps extends ApiDeps {
  masterKey: MasterKey
  credentials: CredentialResolver
  iamLimits: IamLimits
}

/** A form-encoded request without a target is a Query call. */
export function isQueryRequest(req: IncomingMessage): boolean {
  return (
    req.headers['x-amz-target'] === undefined &&
    (req.headers['content-type'] ?? '')
      .toLowerCase()
      .startsWith('application/x-www-form-urlencoded')
  )
}

/** The service named by the credential scope (header or presigned query), `iam` when unclear. */
export function queryServiceOf(req: IncomingMessage): QueryService {
  const auth = req.headers['authorization'] ?? ''
  const fromQuery = /[?&]X-Amz-Credential=([^&]*)/.exec(req.url ?? '')?.[1]
  const credential =
    /Credential=([^,\s]+)/.exec(auth)?.[1] ?? (fromQuery ? decodeURIComponent(fromQuery) : '')
  return credential.split('/')[3] === 'sts' ? 'sts' : 'iam'
}

export interface QueryRequest extends ApiRequest {
  queryService: QueryService
  action?: string
  queryOutput?: XmlObject | undefined
}

export async function runQueryChain(r: QueryRequest, deps: QueryDeps): Promise<void> {
  const req = r.req
  const verified = await deps.verifier.verify(
    {
      method: req.method ?? 'POST',
      url: req.url ?? '/',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: r.body,
    },
    r.queryService,
  )
  const principal = verified.record
  r.principal = principal
  const params = parseForm(r.body.toString('utf8'))
  const action = params.get('Action')
  if (!action) throw new MissingAction('The request must contain the parameter Action')
  const op: IamOperation | undefined = iamOperations[action]
  if (!op || op.service !== r.queryService)
    throw new UnknownOperationException(
      `Could not find operation ${action.slice(0, 128)} for version ${params.get('Version') ?? ''}`,
    )
  r.action = action
  const input = decodeQueryInput(iamValidation, action, params)
  validateInput(iamValidation, action, input)
  r.input = input
  const ctx: IamCallContext = {
    store: deps.context.store,
    principal,
    partition: deps.context.partition,
    region: deps.context.region,
    masterKey: deps.masterKey,
    authorizer: deps.authorizer,
    credentials: deps.credentials,
    limits: deps.iamLimits,
    sourceIp: req.socket.remoteAddress,
    now: deps.context.now,
  }
  // The resource's real ARN is looked up (IAM paths); the root may do everything.
  const wanted = principal.kind === 'root' ? undefined : await op.authorize?.(input, ctx)
  if (wanted) {
    const compiled = await deps.authorizer.compiled(principal)
    const context = deps.authorizer.baseContext(principal, compiled, {
      sourceIp: ctx.sourceIp,
      region: ctx.region,
    })
    deps.authorizer.enforce(principal, compiled, { ...wanted, context })
  }
  r.queryOutput = await op.handle(input, ctx)
  // Every IAM write changes what callers may do: this node sees it at once, others within a second.
  if (op.service === 'iam' && !/^(Get|List|Simulate)/.test(action))
    deps.authorizer.invalidate(principal.accountId)
}
