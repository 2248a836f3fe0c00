/**
 * The API contract recorder: every answer of a scenario, as it came over the wire, checked against
 * AWS's service model of the operation. SDK clients are watched at their HTTP handler (the SDK
 * drops members it does not know, so its parsed output would hide them); raw calls go through the
 * same check. A 2xx answer must fit the operation's output shape; an error must carry a code the
 * model lists for the operation or one of AWS's common errors, never a 5xx.
 */
import { Readable } from 'node:stream'
import { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections'
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline'
import type { IAMClient } from '@aws-sdk/client-iam'
import type { STSClient } from '@aws-sdk/client-sts'
import type { RawClient, Credentials } from './client.js'
import type { ConnectFixture } from './connect.js'
import {
  botocoreModel,
  operationErrors,
  sharedModel,
  validateJson,
  type Model,
} from './model-shapes.js'
import { parseXml, validateQueryResponse } from './model-xml.js'

export type Api = 'codestar-connections' | 'codeconnections' | 'codepipeline' | 'iam' | 'sts'

/** AWS's common errors of the JSON protocols (any operation may answer them). */
export const COMMON_JSON_ERRORS = new Set([
  'AccessDeniedException',
  'ExpiredTokenException',
  'IncompleteSignatureException',
  'InternalFailure',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'RequestEntityTooLargeException',
  'SerializationException',
  'ThrottlingException',
  'UnknownOperationException',
  'UnrecognizedClientException',
  'ValidationException',
])

/** AWS's common errors of the Query protocol (IAM, STS), with their Query codes. */
export const COMMON_QUERY_ERRORS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'ExpiredToken',
  'IncompleteSignature',
  'InternalFailure',
  'InvalidAction',
  'InvalidClientTokenId',
  'InvalidParameterCombination',
  'InvalidParameterValue',
  'InvalidQueryParameter',
  'MalformedQueryString',
  'MissingAction',
  'MissingAuthenticationToken',
  'MissingParameter',
  'RequestExpired',
  'ServiceUnavailable',
  'SignatureDoesNotMatch',
  'Throttling',
  'ValidationError',
])

const TARGET_PREFIX: Record<'codestar-connections' | 'codeconnections' | 'codepipeline', string> = {
  'codestar-connections': 'CodeStar_connections_20191201',
  codeconnections: 'CodeConnections_20231201',
  codepipeline: 'CodePipeline_20150709',
}

const JSON_CONTENT_TYPE = { codepipeline: 'application/x-amz-json-1.1' } as Record<string, string>

export interface Answer {
  api: Api
  operation: string
  status: number
  code?: string
  text: string
}

export class Contract {
  readonly models: Record<Api, Model> = {
    'codestar-connections': sharedModel('codestar-connections'),
    codeconnections: sharedModel('codeconnections'),
    codepipeline: sharedModel('codepipeline'),
    iam: botocoreModel('iam'),
    sts: botocoreModel('sts'),
  }
  readonly violations: string[] = []
  /** Per API, the operations that answered 2xx / a checked error. */
  readonly succeeded = new Map<Api, Set<string>>()
  readonly refused = new Map<Api, Set<string>>()
  readonly answers: Answer[] = []

  /**
   * @param notImplemented per API, operations of the model Junction does not implement and the
   *   one error each must answer (400): they are in the model, so they are not "unknown".
   */
  constructor(
    readonly notImplemented: Partial<Record<Api, { operations: Set<string>; code: string }>> = {},
  ) {}

  #mark(map: Map<Api, Set<string>>, api: Api, op: string): void {
    const set = map.get(api) ?? new Set<string>()
    set.add(op)
    map.set(api, set)
  }

  /** Checks one answer against the model of `api`; returns it with its error code, if any. */
  check(
    api: Api,
    operation: string,
    status: number,
    text: string,
    header: (name: string) => string | undefined,
  ): Answer {
    const model = this.models[api]
    const query = api === 'iam' || api === 'sts'
    const where = `${api} ${operation} (${status})`
    const add = (vs: string[]) => this.violations.push(...vs.map((v) => `${where} ${v}`))
    const answer: Answer = { api, operation, status, text }
    this.answers.push(answer)
    // Every answer names its request and its media type, as AWS's do.
    if (!/^[0-9a-f-]{36}$/.test(header('x-amzn-requestid') ?? ''))
      add([`no x-amzn-RequestId header`])
    const type = query ? 'text/xml' : `application/x-amz-json-${model.metadata.jsonVersion ?? ''}`
    if ((header('content-type') ?? '').split(';')[0] !== type)
      add([`Content-Type ${header('content-type') ?? '(none)'}, not ${type}`])
    const errorType = header('x-amzn-errortype')
    const op = model.operations[operation]
    if (status >= 200 && status < 300) {
      if (!op) {
        add([`answered 2xx to an operation outside the model`])
        return answer
      }
      this.#mark(this.succeeded, api, operation)
      if (query) add(validateQueryResponse(model, operation, text))
      else if (!op.output) {
        if (text.trim() !== '' && text.trim() !== '{}') add([`an answer where the model has none`])
      } else {
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          add([`not JSON: ${text.slice(0, 80)}`])
          return answer
        }
        add(validateJson(model, op.output.shape, body))
      }
      return answer
    }
    answer.code = query ? queryErrorCode(text) : jsonErrorCode(text, errorType)
    if (query) add(queryErrorShape(text))
    if (status >= 500) add([`a server error (${answer.code ?? '?'}) where a 4xx was due`])
    if (!op) {
      const unknown = query ? 'InvalidAction' : 'UnknownOperationException'
      if (answer.code !== unknown)
        add([`an operation outside the model answered ${answer.code ?? '?'}, not ${unknown}`])
      return answer
    }
    const missing = this.notImplemented[api]
    if (missing?.operations.has(operation)) {
      if (answer.code !== missing.code || status !== 400)
        add([
          `a model operation Junction does not implement answered ${answer.code ?? '?'}, not ${missing.code}`,
        ])
      return answer
    }
    this.#mark(this.refused, api, operation)
    const listed = operationErrors(model, operation)
    const common = query ? COMMON_QUERY_ERRORS : COMMON_JSON_ERRORS
    if (!answer.code || !(listed.includes(answer.code) || common.has(answer.code)))
      add([
        `error ${answer.code ?? '(no code)'} is neither listed for the operation (${listed.join(', ') || 'none'}) nor a common AWS error`,
      ])
    else if (!query && listed.includes(answer.code)) {
      // A modelled error's body fits its shape. The message is the protocol's (SDKs read
      // `message` or `Message` of any error), even where the shape lists no member for it.
      const { __type: _type, ...body } = JSON.parse(text) as Record<string, unknown>
      const shape = model.shapes[answer.code]!
      for (const m of ['message', 'Message'])
        if (!shape.members?.[m] && typeof body[m] === 'string') delete body[m]
      add(validateJson(model, answer.code, body, `$(${answer.code})`))
    }
    return answer
  }

  /**
   * Watches an SDK client: each answer's wire bytes are checked before the SDK parses them. For
   * `codeconnections`, a CodeStarConnectionsClient is turned into a client of that endpoint (its
   * target prefix and SigV4 service), as the two models share their operations and shapes.
   */
  watch<C extends { config: object }>(client: C, api: Api): C {
    const handler = (
      client.config as {
        requestHandler: { handle(req: unknown, opts?: unknown): Promise<{ response: unknown }> }
      }
    ).requestHandler
    const handle = handler.handle.bind(handler)
    handler.handle = async (req, opts) => {
      const request = req as { headers: Record<string, string>; body?: unknown }
      const operation =
        api === 'iam' || api === 'sts'
          ? (new URLSearchParams(String(request.body ?? '')).get('Action') ?? '')
          : (request.headers['x-amz-target'] ?? '').split('.').pop()!
      const result = await handle(req, opts)
      const response = result.response as {
        statusCode: number
        headers: Record<string, string>
        body: Readable
      }
      const chunks: Buffer[] = []
      for await (const c of response.body) chunks.push(Buffer.from(c as Uint8Array))
      const bytes = Buffer.concat(chunks)
      const headers = Object.fromEntries(
        Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]),
      )
      this.check(api, operation, response.statusCode, bytes.toString('utf8'), (n) => headers[n])
      response.body = Readable.from([bytes])
      return result
    }
    return client
  }

  /** A signed raw JSON call (connections or CodePipeline), checked. */
  async json(
    raw: RawClient,
    api: 'codestar-connections' | 'codeconnections' | 'codepipeline',
    operation: string,
    body: unknown,
    opts: { credentials?: Credentials | null; rawBody?: string } = {},
  ): Promise<Answer & { json: Record<string, unknown> }> {
    const res = await raw.call({
      target: `${TARGET_PREFIX[api]}.${operation}`,
      signingService: api,
      ...(JSON_CONTENT_TYPE[api] ? { headers: { 'content-type': JSON_CONTENT_TYPE[api] } } : {}),
      body,
      ...(opts.rawBody !== undefined ? { rawBody: opts.rawBody } : {}),
      ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    })
    const a = this.check(
      api,
      operation,
      res.status,
      res.text,
      (n) => res.headers.get(n) ?? undefined,
    )
    return { ...a, json: res.json }
  }

  /** A signed raw Query call (IAM or STS), checked. */
  async query(
    raw: RawClient,
    api: 'iam' | 'sts',
    action: string,
    params: Record<string, string> = {},
    opts: { credentials?: Credentials | null } = {},
  ): Promise<Answer> {
    const version = api === 'iam' ? '2010-05-08' : '2011-06-15'
    const res = await raw.call({
      target: null,
      signingService: api,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      rawBody: new URLSearchParams({ Action: action, Version: version, ...params }).toString(),
      ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    })
    return this.check(api, action, res.status, res.text, (n) => res.headers.get(n) ?? undefined)
  }
}

function jsonErrorCode(text: string, header: string | undefined): string | undefined {
  let type = header
  try {
    type ??= (JSON.parse(text) as { __type?: string }).__type
  } catch {
    // no JSON body
  }
  // `aws.protocoltests#Code:http://…` and `Code:…` forms name the same code.
  return type?.split('#').pop()?.split(':')[0]
}

/** A Query error is `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`. */
function queryErrorShape(text: string): string[] {
  let root
  try {
    root = parseXml(text)
  } catch (err) {
    return [`error: not well-formed XML: ${(err as Error).message}`]
  }
  const names = (el: { children: { name: string }[] }) => el.children.map((c) => c.name).join(',')
  const error = root.children.find((c) => c.name === 'Error')
  const out: string[] = []
  if (root.name !== 'ErrorResponse' || names(root) !== 'Error,RequestId')
    out.push(
      `error: <${root.name}> holding ${names(root)}, not <ErrorResponse> with Error,RequestId`,
    )
  if (error && names(error) !== 'Type,Code,Message')
    out.push(`error: <Error> holding ${names(error)}, not Type,Code,Message`)
  const type = error?.children.find((c) => c.name === 'Type')?.text
  if (error && type !== 'Sender' && type !== 'Receiver') out.push(`error: <Type> ${type ?? ''}`)
  return out
}

function queryErrorCode(text: string): string | undefined {
  try {
    const root = parseXml(text)
    const error = root.children.find((c) => c.name === 'Error')
    return error?.children.find((c) => c.name === 'Code')?.text
  } catch {
    return undefined
  }
}

/** A CodeStarConnectionsClient that speaks to the codeconnections endpoint. */
export function codeconnectionsClient(url: string, credentials: Credentials) {
  const client = new CodeStarConnectionsClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { ...credentials },
    maxAttempts: 1,
    // The SigV4 service of the credential scope (the signer's default is the client's own).
    signingName: 'codeconnections',
  } as NonNullable<ConstructorParameters<typeof CodeStarConnectionsClient>[0]>)
  client.middlewareStack.add(
    (next) => (args) => {
      const req = args.request as { headers: Record<string, string> }
      const target = req.headers['x-amz-target']
      if (target)
        req.headers['x-amz-target'] = target.replace(
          /^CodeStar_connections_20191201\./,
          'CodeConnections_20231201.',
        )
      return next(args)
    },
    { step: 'build', name: 'codeconnectionsTarget' },
  )
  return client
}

/** What a contract scenario works with: the recorder, the sandbox fixture, watched SDK clients. */
export interface Surface {
  c: Contract
  f: ConnectFixture
  clients: {
    'codestar-connections': CodeStarConnectionsClient
    codeconnections: CodeStarConnectionsClient
    iam: IAMClient
    sts: STSClient
    codepipeline: CodePipelineClient
  }
}
