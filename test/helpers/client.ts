/**
 * Clients for the tests: the official AWS SDK for the codestar-connections endpoint, and a raw
 * SigV4-signed helper (signed by the official @smithy/signature-v4) for codeconnections and for
 * requests the SDK would refuse to send.
 */
import { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export function sdkClient(
  url: string,
  credentials: Credentials,
  region = 'us-east-1',
): CodeStarConnectionsClient {
  return new CodeStarConnectionsClient({
    endpoint: url,
    region,
    credentials: { ...credentials },
    maxAttempts: 1,
  })
}

export const TARGETS = {
  'codestar-connections': 'CodeStar_connections_20191201',
  'codestar-connections-long': 'com.amazonaws.codestar.connections.CodeStar_connections_20191201',
  codeconnections: 'CodeConnections_20231201',
  'codeconnections-long': 'com.amazonaws.codeconnections.CodeConnections_20231201',
} as const

export type Service = 'codestar-connections' | 'codeconnections'

export interface RawResponse {
  status: number
  headers: Headers
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: Record<string, unknown> & { __type?: string; Message?: string }
  text: string
}

export interface RawRequest {
  service?: Service
  operation?: string
  /** Overrides the X-Amz-Target header entirely (undefined = derived from service/operation). */
  target?: string | null
  body?: unknown
  /** Raw body text instead of JSON.stringify(body). */
  rawBody?: string | Buffer
  credentials?: Credentials | null
  /** Service name in the credential scope (defaults to `service`). */
  signingService?: string
  region?: string
  headers?: Record<string, string>
  /** Signing time (defaults to now). */
  signingDate?: Date
  presign?: boolean
  path?: string
  /** Changes the signed headers before sending (a well-formed request with one part broken). */
  afterSign?: (headers: Record<string, string>) => void
}

export class RawClient {
  constructor(
    readonly url: string,
    readonly credentials: Credentials,
    /** The signing clock (a test clock when the server runs on one). */
    readonly now: () => number = Date.now,
  ) {}

  async call(r: RawRequest): Promise<RawResponse> {
    const service = r.service ?? 'codeconnections'
    const u = new URL(this.url)
    const bodyText = r.rawBody ?? JSON.stringify(r.body ?? {})
    const headers: Record<string, string> = {
      host: u.host,
      'content-type': 'application/x-amz-json-1.0',
      ...r.headers,
    }
    if (r.target !== null)
      headers['x-amz-target'] =
        r.target ?? `${TARGETS[service]}.${r.operation ?? 'ListConnections'}`
    let path = r.path ?? '/'
    let query: Record<string, string> = {}
    const creds = r.credentials === undefined ? this.credentials : r.credentials
    if (creds) {
      const signer = new SignatureV4({
        service: r.signingService ?? service,
        region: r.region ?? 'us-east-1',
        credentials: creds,
        sha256: Hash.bind(null, 'sha256'),
      })
      const request = {
        method: 'POST',
        protocol: 'http:',
        hostname: u.hostname,
        port: Number(u.port),
        path,
        headers,
        body: bodyText,
        query,
      }
      if (r.presign) {
        const signed = await signer.presign(request, {
          signingDate: r.signingDate ?? new Date(this.now()),
          expiresIn: 300,
        })
        query = signed.query as Record<string, string>
        // Send what was signed: the presigner moved the x-amz-* headers into the query string.
        for (const name of Object.keys(headers)) if (!(name in signed.headers)) delete headers[name]
        Object.assign(headers, signed.headers)
      } else {
        const signed = await signer.sign(request, {
          signingDate: r.signingDate ?? new Date(this.now()),
        })
        Object.assign(headers, signed.headers)
      }
    }
    r.afterSign?.(headers)
    const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20')
    if (qs) path += `?${qs}`
    const { host: _host, ...sendHeaders } = headers
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: sendHeaders,
      body: typeof bodyText === 'string' ? bodyText : new Uint8Array(bodyText),
    })
    const text = await res.text()
    let json: RawResponse['json']
    try {
      json = JSON.parse(text) as RawResponse['json']
    } catch {
      json = {}
    }
    return { status: res.status, headers: res.headers, json, text }
  }
}

/** Asserts an AWS-shaped error: status, `__type` and (optionally) a message fragment. */
export function errorOf(res: RawResponse): {
  status: number
  type: string | undefined
  message: string | undefined
} {
  return { status: res.status, type: res.json.__type, message: res.json.Message }
}
