/**
 * @module audit/recorder
 * What the HTTP front door calls: `enter` when a request arrives (so that a connection used while
 * serving it knows its address and user agent) and `call` when it was answered, with the endpoint,
 * the operation, the caller and the outcome. Calls that never authenticated are not recorded: no
 * account is known to hold them (they are in the log and the metrics).
 */
import type { IncomingMessage } from 'node:http'
import { AwsError } from '../errors/aws-error.js'
import { requestScope } from '../server/logging.js'
import type { Principal } from '../iam/principal.js'
import type { AuditLog } from './log.js'
import type { InFlight } from './uses.js'

/** The body as a JSON object, or undefined (only its allow-listed members are ever kept). */
function parsedObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'))
    return v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

const OUTPUT_ARNS = ['ConnectionArn', 'HostArn']

/** The top-level ARN members of an answer (what a create returns), or undefined. */
function arnsOf(output: unknown): Record<string, string> | undefined {
  if (!output || typeof output !== 'object') return undefined
  let out: Record<string, string> | undefined
  for (const m of OUTPUT_ARNS) {
    const v = (output as Record<string, unknown>)[m]
    if (typeof v === 'string') (out ??= {})[m] = v
  }
  return out
}

export class AuditRecorder {
  constructor(
    readonly log: AuditLog,
    readonly inFlight: InFlight,
    private readonly now: () => number,
  ) {}

  enter(requestId: string, req: IncomingMessage): void {
    this.inFlight.enter(requestId, req)
  }

  /** Records an answered API call (and forgets the request). */
  call(
    requestId: string,
    req: IncomingMessage,
    eventSource: string | undefined,
    operation: string | undefined,
    principal: Principal | undefined,
    input: Record<string, unknown> | undefined,
    output: unknown,
    error: AwsError | undefined,
    /** The raw body, read only when the chain kept no parsed input (Junction's own operations). */
    body?: Buffer,
  ): void {
    this.inFlight.leave(requestId)
    if (!principal || !operation || !eventSource) return
    if (input === undefined && body && body.length > 0) input = parsedObject(body)
    this.log.record({
      time: this.now(),
      requestId,
      eventName: operation,
      eventSource,
      eventType: 'AwsApiCall',
      principal,
      sourceIp: req.socket.remoteAddress,
      userAgent: req.headers['user-agent'],
      input,
      // Only the ARNs it names are kept (a created connection's), not the answer itself.
      output: error ? undefined : arnsOf(output),
      error: error ? { code: error.code, message: error.message } : undefined,
    })
  }

  /** Records an operation the web console ran for its signed-in user (`AwsConsoleAction`). */
  consoleAction(
    req: IncomingMessage,
    service: string,
    operation: string,
    principal: Principal,
    input: Record<string, unknown>,
    output: unknown,
    error: unknown,
  ): void {
    this.log.record({
      time: this.now(),
      requestId: requestScope.getStore() ?? '',
      eventName: operation,
      eventSource: `${service}.amazonaws.com`,
      eventType: 'AwsConsoleAction',
      principal,
      sourceIp: req.socket.remoteAddress,
      userAgent: req.headers['user-agent'],
      input,
      output: error === undefined ? output : undefined,
      error:
        error === undefined
          ? undefined
          : error instanceof AwsError
            ? { code: error.code, message: error.message }
            : { code: 'InternalFailure', message: 'An internal error occurred' },
    })
  }
}
