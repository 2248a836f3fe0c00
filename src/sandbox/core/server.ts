/**
 * @module sandbox/core/server
 * A provider sandbox's HTTP front door and lifecycle: one `node:http` server on one port, a
 * request split into decoded path segments, the provider's routes tried in order, every thrown
 * `HttpError` turned into the provider's error body (anything else is logged and answered 500
 * with no detail), background work (webhook deliveries) tracked so tests can wait for it, and a
 * close that drops open connections.
 */
import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HttpError, sendJson } from './http.js'

/** One request as routes see it. */
export interface SandboxRequest {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  /** Decoded path segments (raw ones when a segment does not decode). */
  parts: string[]
  method: string
}

/**
 * A route: answers the request and returns true, or returns false to let the next route try.
 * Routes throw `HttpError` for error answers.
 */
export type Route = (r: SandboxRequest) => Promise<boolean | void> | boolean

export interface SandboxServerOptions {
  /** For error logs (`bitbucket sandbox: …`). */
  name: string
  host?: string
  port: number
  dataDir: string
  /** The provider's error body for an `HttpError` message. */
  errorBody(message: string): unknown
}

export interface SandboxServer {
  /** `http://host:port` once listening. */
  readonly url: string
  /** Adds routes; the first that answers wins, in the order added. */
  route(...routes: Route[]): void
  /** Keeps a background task (a delivery) until it settles. */
  track(p: Promise<unknown>): void
  /** Resolves when every tracked task started so far has settled. */
  settled(): Promise<void>
  close(): Promise<void>
}

/** Starts listening; routes can be added before or after (none answer until added). */
export async function startSandboxServer(o: SandboxServerOptions): Promise<SandboxServer> {
  const routes: Route[] = []
  const pending = new Set<Promise<unknown>>()
  let base = 'http://localhost'

  async function dispatch(r: SandboxRequest) {
    for (const route of routes) if ((await route(r)) !== false) return
    throw new HttpError(404, 'Not found')
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base)
    const segments = url.pathname.split('/').filter((s) => s !== '')
    let parts: string[]
    try {
      parts = segments.map((s) => decodeURIComponent(s))
    } catch {
      parts = segments
    }
    dispatch({ req, res, url, parts, method: req.method ?? 'GET' }).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      const e = err instanceof HttpError ? err : new HttpError(500, 'Sandbox error')
      if (!(err instanceof HttpError))
        process.stderr.write(`${o.name}: ${(err as Error).stack ?? String(err)}\n`)
      sendJson(res, e.status, o.errorBody(e.message), e.headers)
    })
  })
  server.on('clientError', (_e, socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = o.host ?? '127.0.0.1'
  base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 })
  return {
    url: base,
    route: (...more) => void routes.push(...more),
    track(p) {
      pending.add(p)
      p.finally(() => pending.delete(p)).catch(() => undefined)
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
