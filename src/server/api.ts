/**
 * @module server/api
 * The AWS JSON request chain for `POST /`, as one ordered list of small steps (after LocalStack's
 * handler chain): parse the target → authenticate (SigV4) → parse JSON → validate → authorize →
 * dispatch. Any step may throw an `AwsError`; the listener serializes it.
 */
import type { IncomingMessage } from 'node:http'
import type { Logger } from 'pino'
import { serviceMetadata, type OperationName, type ServiceName } from '../generated/operations.js'
import {
  codeconnectionsValidation,
  codestarConnectionsValidation,
} from '../generated/validation-table.js'
import { parseTarget } from '../protocol/target.js'
import type { SigV4Verifier } from '../protocol/sigv4/verify.js'
import { validateInput } from '../protocol/validate.js'
import type { ValidationTable } from '../protocol/validation-types.js'
import { actionPrefix, type Principal } from '../iam/index.js'
import { resourceOf } from '../iam/resources.js'
import type { Authorizer, CompiledPrincipal } from '../iam/authorizer.js'
import { addConnectionsKeys, addResourceTags } from '../iam/connections-context.js'
import { operations, type Operation, type OperationContext } from '../operations/index.js'
import { notSupportedError } from '../operations/operation.js'
import type { ArnService } from '../domain/arn.js'
import { parseJsonBody } from '../protocol/json-body.js'
import type { AuditRecorder } from '../audit/recorder.js'
import type { CloudTrailDeps } from '../audit/cloudtrail-api.js'

const validationTables: Record<ServiceName, ValidationTable> = {
  codeconnections: codeconnectionsValidation,
  'codestar-connections': codestarConnectionsValidation,
}

/** What one API request carries through the chain. */
export interface ApiRequest {
  req: IncomingMessage
  body: Buffer
  service?: ServiceName
  operation?: OperationName
  principal?: Principal
  input?: Record<string, unknown>
  output?: unknown
}

export interface ApiDeps {
  verifier: SigV4Verifier<Principal>
  authorizer: Authorizer
  logger: Logger
  /** Everything an operation needs except the caller and endpoint, which the chain adds. */
  context: Omit<OperationContext, 'service' | 'principalArn' | 'accountId'>
  /** Records every authenticated call in the audit trail (audit/), when it is on. */
  audit?: AuditRecorder | undefined
  /** CloudTrail's LookupEvents over the audit trail (the API, and the console's recent use). */
  cloudtrail?: CloudTrailDeps | undefined
}

type Step = (r: ApiRequest, deps: ApiDeps) => void | Promise<void>

/** Authorizes with compiled policies; synchronous unless resource tags must be read. */
function authorizeWith(r: ApiRequest, deps: ApiDeps, c: CompiledPrincipal): void | Promise<void> {
  const principal = r.principal!
  const op = r.operation!
  const input = r.input!
  const resource = resourceOf(op, input)
  const prefix = actionPrefix(resource, r.service!)
  const context = deps.authorizer.baseContext(principal, c, {
    sourceIp: r.req.socket.remoteAddress,
    region: deps.context.region,
  })
  addConnectionsKeys(context, op, input)
  const decide = () => {
    deps.authorizer.enforce(principal, c, { action: `${prefix}:${op}`, resource, context })
    // Creating with tags also needs TagResource, as on AWS.
    const tags = input['Tags']
    if (
      (op === 'CreateConnection' || op === 'CreateHost') &&
      Array.isArray(tags) &&
      tags.length > 0
    ) {
      const type = op === 'CreateConnection' ? 'connection' : 'host'
      const pending = `arn:${deps.context.partition}:${r.service!}:${deps.context.region}:${principal.accountId}:${type}/*`
      deps.authorizer.enforce(principal, c, {
        action: `${r.service!}:TagResource`,
        resource: pending,
        context,
      })
    }
  }
  if (!c.readsResourceTags) return decide()
  return addResourceTags(context, deps.context.store, principal.accountId, resource).then(decide)
}

const steps: Step[] = [
  function parseTargetStep(r) {
    const t = parseTarget(r.req.headers['x-amz-target'] as string | undefined)
    r.service = t.service
    r.operation = t.operation
  },
  function authenticate(r, deps) {
    const verified = deps.verifier.verify(
      {
        method: r.req.method ?? 'POST',
        url: r.req.url ?? '/',
        headers: r.req.headers,
        rawHeaders: r.req.rawHeaders,
        body: r.body,
      },
      serviceMetadata[r.service!].signingName,
    )
    if (verified instanceof Promise)
      return verified.then((v) => {
        r.principal = v.record
      })
    r.principal = verified.record
  },
  function rejectUnsupported(r) {
    if (!operations[r.operation!].supported) throw notSupportedError(r.operation!)
  },
  function parseJson(r) {
    r.input = parseJsonBody(r.body)
  },
  function validate(r) {
    validateInput(validationTables[r.service!], r.operation!, r.input)
  },
  function authorizeStep(r, deps) {
    const principal = r.principal!
    // The account root may do everything: no policy to load on its hot path.
    if (principal.kind === 'root') return
    const compiled = deps.authorizer.compiled(principal)
    return compiled instanceof Promise
      ? compiled.then((c) => authorizeWith(r, deps, c))
      : authorizeWith(r, deps, compiled)
  },
  async function dispatch(r, deps) {
    const op = operations[r.operation!] as Operation<OperationName>
    const c = deps.context
    // Built field by field (not by spreading) so every context has one shape for the JIT.
    const ctx: OperationContext = {
      store: c.store,
      region: c.region,
      partition: c.partition,
      limits: c.limits,
      vpcInitDelayMs: c.vpcInitDelayMs,
      pageTokens: c.pageTokens,
      now: c.now,
      onConnectionDeleted: c.onConnectionDeleted,
      service: r.service! as ArnService,
      accountId: r.principal!.accountId,
      principalArn: r.principal!.arn,
    }
    r.output = await op.handle(r.input as never, ctx)
  },
]

/** The steps after authentication: what the console runs for an already signed-in principal. */
const afterAuthentication = steps.slice(steps.findIndex((s) => s.name === 'rejectUnsupported'))

/**
 * Runs an operation as `principal` through the same validation, authorization and dispatch as a
 * signed API request (the console's only way to the store). `req` supplies the source address.
 */
export async function invokeAs(
  deps: ApiDeps,
  req: IncomingMessage,
  principal: Principal,
  service: ServiceName,
  operation: OperationName,
  input: Record<string, unknown>,
): Promise<unknown> {
  const r: ApiRequest = {
    req,
    body: Buffer.alloc(0),
    service,
    operation,
    principal,
    input: undefined,
    output: undefined,
  }
  try {
    // parseJson is skipped: the input is already an object.
    for (const step of afterAuthentication) {
      if (step.name === 'parseJson') {
        r.input = input
        continue
      }
      const pending = step(r, deps)
      if (pending) await pending
    }
  } catch (err) {
    deps.audit?.consoleAction(req, service, operation, principal, input, undefined, err)
    throw err
  }
  deps.audit?.consoleAction(req, service, operation, principal, input, r.output, undefined)
  return r.output
}

export async function runApiChain(r: ApiRequest, deps: ApiDeps): Promise<void> {
  for (const step of steps) {
    // Most steps are synchronous; awaiting only real promises saves a microtask hop per step.
    const pending = step(r, deps)
    if (pending) await pending
  }
}
