/**
 * @module connect/host-fetch
 * A `fetch` for a self-managed host that trusts the host's own TLS certificate
 * (`VpcConfiguration.TlsCertificate`, PEM) beside the usual public roots, for the HTTP client that
 * talks to that host (providers/http-client takes it as its `fetch`). Node's built-in fetch takes
 * no CA, so this one is a small `https.request` shaped like fetch: method, headers, string body,
 * abort signal, redirects never followed (the HTTP client asks for `redirect: 'manual'`).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { rootCertificates } from 'node:tls'

/** `fetch` itself without a certificate; one trusting `tlsCertificate` too with one. */
export function fetchTrusting(tlsCertificate?: string | null): typeof fetch {
  const pem = tlsCertificate?.trim()
  if (!pem) return fetch
  const ca = [...rootCertificates, pem]
  return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString())
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((v, k) => (headers[k] = v))
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : init.body instanceof URLSearchParams
            ? init.body.toString()
            : undefined
    if (init.body && body === undefined)
      throw new TypeError('fetchTrusting sends string bodies only')
    if (body !== undefined && init.body instanceof URLSearchParams)
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8'
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          ...(url.protocol === 'https:' ? { ca } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        },
        resolve,
      )
      req.on('error', reject)
      req.end(body)
    })
    const out = new Headers()
    for (const [k, v] of Object.entries(res.headers))
      for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.append(k, one)
    const status = res.statusCode ?? 502
    const empty = status === 204 || status === 304 || init.method === 'HEAD'
    if (empty) res.resume()
    return new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
      status,
      statusText: res.statusMessage ?? '',
      headers: out,
    })
  }) as typeof fetch
}
