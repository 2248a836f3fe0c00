/**
 * @module sandbox/core/git-http
 * Real Git over HTTP for a sandbox: the CGI bridge to `git http-backend` (providers.md §7), and
 * `serveGit`, which asks the provider's `authorize` check whether a clone, fetch or push may go
 * on (each provider has its own user names and tokens for Git) and tells it which refs a push
 * moved, so it can send its webhooks.
 */
import { spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { gitEnv, refs } from './git.js'

/** Whom a Git request runs as (git http-backend's REMOTE_USER). */
export interface GitAccess {
  remoteUser: string
}

export interface ServeGitOptions<A extends GitAccess> {
  /** The directory holding `<owner>/<name>.git` (GIT_PROJECT_ROOT). */
  projectRoot: string
  /** The path below the project root: `/<owner>/<name>.git/<rest…>`. */
  pathInfo: string
  /** The query string without `?` (`service=git-upload-pack`). */
  query: string
  /** The bare repository's directory (to snapshot refs around a push). */
  repoDir: string
  /**
   * The provider's check: answers who the request runs as, or throws an `HttpError` (401 with
   * the provider's challenge, 403, 404). `write` is true for a push (git-receive-pack).
   */
  authorize(write: boolean): A | Promise<A>
  /** Called after a push with the refs before it (the provider compares and sends webhooks). */
  afterPush?(access: A, before: Map<string, string>): Promise<void>
}

/** Serves one smart-HTTP Git request for a repository, after the provider's check. */
export async function serveGit<A extends GitAccess>(
  req: IncomingMessage,
  res: ServerResponse,
  o: ServeGitOptions<A>,
): Promise<void> {
  const write =
    new URLSearchParams(o.query).get('service') === 'git-receive-pack' ||
    o.pathInfo.endsWith('/git-receive-pack')
  const access = await o.authorize(write)
  const before = write && req.method === 'POST' ? await refs(o.repoDir) : undefined
  await gitHttpBackend(req, res, {
    projectRoot: o.projectRoot,
    pathInfo: o.pathInfo,
    query: o.query,
    remoteUser: access.remoteUser,
  })
  if (before && o.afterPush) await o.afterPush(access, before)
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
