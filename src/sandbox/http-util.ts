/**
 * @module sandbox/http-util
 * Small helpers the sandbox servers share: bodies, JSON and HTML answers, Basic/Bearer parsing,
 * and the CGI bridge to `git http-backend` (providers.md §7).
 */
import { spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { gitEnv } from './git.js'

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

export async function readBody(req: IncomingMessage, max = 10 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length
    if (size > max) throw new HttpError(413, 'Request body too large')
    chunks.push(c)
  }
  return Buffer.concat(chunks)
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req)
  if (body.length === 0) return {}
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return v as Record<string, unknown>
  } catch {
    // fall through
  }
  throw new HttpError(400, 'The body must be a JSON object')
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(req, 1024 * 1024)).toString('utf8'))
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:",
    ...headers,
  })
  res.end(html)
}

export function redirect(
  res: ServerResponse,
  location: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(302, {
    Location: location,
    'Content-Length': 0,
    'Cache-Control': 'no-store',
    ...headers,
  })
  res.end()
}

export function basicAuth(req: IncomingMessage): { user: string; password: string } | undefined {
  const h = req.headers.authorization
  if (!h?.startsWith('Basic ')) return undefined
  const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return undefined
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) }
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined
}

/**
 * Runs `git http-backend` for one request: the body is piped to its stdin, the CGI headers it
 * prints become the response's, the rest streams. Resolves when the backend exits.
 */
export function gitHttpBackend(
  req: IncomingMessage,
  res: ServerResponse,
  o: { projectRoot: string; pathInfo: string; query: string; remoteUser: string },
): Promise<number> {
  return new Promise((resolve) => {
    const env = gitEnv({
      GIT_PROJECT_ROOT: o.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: o.pathInfo,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: o.query,
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: o.remoteUser,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
    })
    const p = spawn('git', ['http-backend'], { env })
    req.pipe(p.stdin)
    p.stdin.on('error', () => undefined)
    let head = Buffer.alloc(0)
    let headersDone = false
    p.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      let sep = head.indexOf('\r\n\r\n')
      let sepLen = 4
      if (sep < 0) {
        sep = head.indexOf('\n\n')
        sepLen = 2
      }
      if (sep < 0) return
      headersDone = true
      let status = 200
      for (const line of head.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':')
        if (i < 0) continue
        const name = line.slice(0, i).trim()
        const value = line.slice(i + 1).trim()
        if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 200
        else res.setHeader(name, value)
      }
      res.writeHead(status)
      res.write(head.subarray(sep + sepLen))
    })
    p.stderr.on('data', () => undefined)
    p.on('close', (code) => {
      if (!headersDone && !res.headersSent) res.writeHead(500)
      res.end()
      resolve(code ?? 1)
    })
    p.on('error', () => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
      resolve(1)
    })
  })
}
