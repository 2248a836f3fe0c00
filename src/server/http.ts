/**
 * @module server/http
 * The HTTP front door on `node:http` (the fastest carrier measured, see STYLE §5.5): `GET /health`,
 * `POST /` for the AWS APIs, `GET /metrics` when metrics are on this port, and AWS-shaped 404/405
 * answers for anything else. Every request gets an id, sent back in `x-amzn-RequestId` (and in the
 * Query protocol's XML bodies), carried by every log line written while it is served
 * (server/logging.ts), and one log line of its own; no request can reach a 5xx except through a
 * bug, which is logged. Each answered request is one observation in the metrics, when they are on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { AwsError } from '../errors/aws-error.js'
import {
  InternalFailure,
  MethodNotAllowedException,
  NotFoundException,
  RequestEntityTooLargeException,
} from '../errors/common.js'
import { newRequestId } from '../domain/ids.js'
import { requestScope } from './logging.js'
import { serveMetrics, type Metrics } from './metrics.js'
import { writeError, writeResult } from '../protocol/serialize.js'
import { ClientClosedError, readBody } from './read-body.js'
import { runApiChain, type ApiRequest } from './api.js'
import {
  isQueryRequest,
  queryServiceOf,
  runQueryChain,
  type QueryDeps,
  type QueryRequest,
} from './query.js'
import { isExtensionTarget, runExtensionChain, type ExtensionDeps } from './extension.js'
import { handleWeb, type WebDeps } from './web.js'
import { handleReady, type ReadinessDeps } from './health.js'
import { targetFromQuery } from '../protocol/sigv4/signed-headers.js'
import {
  isPipelineTarget,
  PIPELINE_CONTENT_TYPE,
  runPipelineChain,
  type PipelineApiDeps,
} from '../pipelines/api.js'
import type { ConsoleApp } from '../console/console.js'
import {
  CLOUDTRAIL_CONTENT_TYPE,
  CLOUDTRAIL_EVENT_SOURCE,
  isCloudTrailTarget,
  runCloudTrailChain,
} from '../audit/cloudtrail-api.js'
import { writeQueryError, writeQueryResult, type QueryService } from '../protocol/query/xml.js'

export interface HttpDeps extends QueryDeps {
  maxBodyBytes: number
  health: () => Record<string, unknown>
  /** Readiness checks for `GET /ready` (server/health.ts); without them /ready is not routed. */
  ready?: ReadinessDeps
  /** Junction's own operations (completion, connection use). */
  extension?: ExtensionDeps
  /** The handshake pages and archive links. */
  web?: WebDeps
  /** The web console under /console. */
  console?: ConsoleApp
  /** The CodePipeline API subset. */
  pipelines?: PipelineApiDeps
  /** Observes every request (and scrapes `/metrics` here when `metricsOnMainPort`). */
  metrics?: Metrics | undefined
  metricsOnMainPort?: boolean
}

export interface JunctionServer {
  server: Server
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes every socket. */
  drain(graceMs?: number): Promise<void>
}

const EMPTY = Buffer.alloc(0)

export function createHttpServer(deps: HttpDeps): JunctionServer {
  let draining = false
  let inFlight = 0
  let idle: (() => void) | undefined

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
  ): Promise<void> => {
    const started = performance.now()
    // Every member present from the start: one object shape for every request.
    const api: ApiRequest = {
      req,
      body: EMPTY,
      service: undefined,
      operation: undefined,
      principal: undefined,
      input: undefined,
      output: undefined,
    }
    let status = 200
    let errorCode: string | undefined
    // The Query protocol (IAM, STS) answers in XML; everything else in AWS JSON.
    let queryService: QueryService | undefined
    let contentType: string | undefined
    let messageMember: 'Message' | 'message' = 'Message'
    let eventSource: string | undefined
    let failure: AwsError | undefined
    deps.audit?.enter(requestId, req)
    if (draining) res.setHeader('Connection', 'close')
    try {
      const url = req.url ?? '/'
      const q = url.indexOf('?')
      const path = q < 0 ? url : url.slice(0, q)
      if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
        ;(api as { operation?: string }).operation = 'health'
        const body = JSON.stringify({ status: 'ok', ...deps.health() })
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'x-amzn-RequestId': requestId,
        })
        res.end(req.method === 'HEAD' ? undefined : body)
        return
      }
      if (path === '/ready' && deps.ready && (req.method === 'GET' || req.method === 'HEAD')) {
        await handleReady(req, res, deps.ready)
        status = res.statusCode
        return
      }
      if (path !== '/' || req.method === 'GET' || req.method === 'HEAD') {
        // Pages and links answer with the id too (the API's writers set it themselves).
        res.setHeader('x-amzn-RequestId', requestId)
        if (
          path === '/metrics' &&
          deps.metricsOnMainPort &&
          deps.metrics &&
          (req.method === 'GET' || req.method === 'HEAD')
        ) {
          ;(api as { operation?: string }).operation = 'metrics'
          await serveMetrics(deps.metrics, req, res)
          return
        }
        const route =
          (deps.console && (await deps.console.handle(req, res, path))) ||
          (path !== '/' && deps.web && (await handleWeb(req, res, path, deps.web)))
        if (route) {
          ;(api as { operation?: string }).operation = route
          status = res.statusCode
          return
        }
        throw new NotFoundException(`No route for ${req.method ?? ''} ${path.slice(0, 200)}`)
      }
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST')
        throw new MethodNotAllowedException(
          `The AWS API endpoint accepts POST only, not ${req.method ?? ''}`,
        )
      }
      const body = await readBody(req, deps.maxBodyBytes)
      if (body.tooLarge) {
        res.setHeader('Connection', 'close')
        throw new RequestEntityTooLargeException(
          `Request body exceeds the limit of ${deps.maxBodyBytes} bytes`,
        )
      }
      api.body = body.data
      // A presigned request may name its operation in the signed query string, where the Smithy
      // signer hoists it; an X-Amz-Target header, when sent, must itself be signed (verify.ts).
      if (q >= 0 && req.headers['x-amz-target'] === undefined) {
        const target = targetFromQuery(url.slice(q + 1))
        if (target !== undefined) req.headers['x-amz-target'] = target
      }
      if (isQueryRequest(req)) {
        queryService = queryServiceOf(req)
        eventSource = `${queryService}.amazonaws.com`
        const q = api as QueryRequest
        q.queryService = queryService
        await runQueryChain(q, deps)
        writeQueryResult(res, requestId, queryService, q.action!, q.queryOutput)
      } else if (
        deps.extension &&
        isExtensionTarget(req.headers['x-amz-target'] as string | undefined)
      ) {
        eventSource = 'junction'
        await runExtensionChain(api, deps.extension)
        writeResult(res, requestId, api.output)
      } else if (
        deps.pipelines &&
        isPipelineTarget(req.headers['x-amz-target'] as string | undefined)
      ) {
        contentType = PIPELINE_CONTENT_TYPE
        eventSource = 'codepipeline.amazonaws.com'
        // CodePipeline's error shapes name it `message` (the connections services' `Message`).
        messageMember = 'message'
        await runPipelineChain(api, deps.pipelines)
        writeResult(res, requestId, api.output, contentType)
      } else if (
        deps.cloudtrail &&
        isCloudTrailTarget(req.headers['x-amz-target'] as string | undefined)
      ) {
        contentType = CLOUDTRAIL_CONTENT_TYPE
        eventSource = CLOUDTRAIL_EVENT_SOURCE
        await runCloudTrailChain(api, deps.cloudtrail)
        writeResult(res, requestId, api.output, contentType)
      } else {
        await runApiChain(api, deps)
        eventSource = `${api.service!}.amazonaws.com`
        writeResult(res, requestId, api.output)
      }
    } catch (err) {
      if (err instanceof ClientClosedError) {
        status = 400
        errorCode = 'ClientClosed'
        res.destroy()
        return
      }
      let awsError: AwsError
      if (err instanceof AwsError) awsError = err
      else {
        deps.logger.error({ reqId: requestId, err }, 'unhandled error')
        awsError = new InternalFailure(
          `An internal error occurred. Quote the request id ${requestId} when reporting it.`,
        )
      }
      status = awsError.statusCode
      errorCode = awsError.code
      failure = awsError
      if (res.headersSent) res.destroy()
      else if (queryService) writeQueryError(res, requestId, queryService, awsError)
      else writeError(res, requestId, awsError, contentType, messageMember)
    } finally {
      const ms = performance.now() - started
      deps.audit?.call(
        requestId,
        req,
        eventSource ?? (api.service && `${api.service}.amazonaws.com`),
        api.operation ?? (api as Partial<QueryRequest>).action,
        api.principal,
        api.input,
        api.output,
        failure,
        api.body,
      )
      deps.metrics?.request(
        queryService ?? api.service,
        api.operation ?? (api as Partial<QueryRequest>).action,
        status,
        ms / 1000,
        errorCode,
      )
      deps.logger.info(
        {
          reqId: requestId,
          service: queryService ?? api.service,
          op: api.operation ?? (api as Partial<QueryRequest>).action,
          principal: api.principal?.arn,
          status,
          error: errorCode,
          ms: Math.round(ms * 1000) / 1000,
        },
        'request',
      )
    }
  }

  const server = createServer((req, res) => {
    inFlight++
    const requestId = newRequestId()
    // `handle` answers every error itself; this guard only logs a bug in that answering.
    requestScope.run(requestId, handle, req, res, requestId).then(settled, (err: unknown) => {
      deps.logger.error({ err, reqId: requestId }, 'request handler failed')
      if (!res.headersSent) {
        res.statusCode = 500
        res.end()
      }
      settled()
    })
  })
  const settled = () => {
    if (--inFlight === 0) idle?.()
  }
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  server.requestTimeout = 120_000
  // A malformed request line or header never reaches the handler: answer 400 instead of a reset.
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    else socket.destroy()
  })

  return {
    server,
    drain(graceMs = 10_000) {
      draining = true
      return new Promise<void>((resolveDrain) => {
        const closed = new Promise<void>((r) => server.close(() => r()))
        server.closeIdleConnections()
        const finished = inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => (idle = r))
        const timer = setTimeout(() => server.closeAllConnections(), graceMs)
        void finished
          .then(() => {
            server.closeIdleConnections()
            return closed
          })
          .then(() => {
            clearTimeout(timer)
            resolveDrain()
          })
      })
    },
  }
}
