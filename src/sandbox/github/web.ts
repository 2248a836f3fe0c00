/**
 * @module sandbox/github/web
 * Git over HTTP at `/{owner}/{repo}.git/…` (the core's `git http-backend` bridge) with GitHub's
 * credentials: Basic `x-access-token:<installation, user or personal access token>` (any user
 * name), refused for
 * repositories the token does not reach (404, as GitHub hides private ones) and for pushes without
 * `contents: write` (403); a push sends the app webhooks. And the codeload listener: archives at
 * `/{owner}/{repo}/legacy.zip|legacy.tar.gz/{sha}?token=…` (a short-lived signed link from the
 * API's zipball/tarball redirect), refused (400) when the request carries an Authorization header.
 */
import { createHmac } from 'node:crypto'
import { archive } from '../core/git.js'
import { serveGit } from '../core/git-http.js'
import { basicAuth, HttpError, safeEqual } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { callerOf, repoFor } from './auth.js'
import type { Gh } from './context.js'
import { notifyPush } from './events.js'

const challenge = { 'WWW-Authenticate': 'Basic realm="GitHub"' }

/** Answers `/{owner}/{repo}.git/…`; false for any other path. */
export async function gitRoute(gh: Gh, r: SandboxRequest): Promise<boolean> {
  const [owner, second] = r.parts
  if (!owner || !second?.endsWith('.git') || r.parts.length < 3) return false
  const name = second.slice(0, -4)
  const found = gh.state.repo(owner, name)
  if (!found) throw new HttpError(404, 'Repository not found.')
  await serveGit(r.req, r.res, {
    projectRoot: gh.state.reposRoot,
    pathInfo: `/${found.owner}/${found.name}.git/${r.parts.slice(2).join('/')}`,
    query: r.url.search.slice(1),
    repoDir: gh.state.repoDir(found.owner, found.name),
    authorize(write) {
      const b = basicAuth(r.req)
      if (r.req.headers.authorization && !b)
        throw new HttpError(401, 'Authentication failed', challenge)
      let caller
      try {
        caller = b ? callerOf(gh, r.req, b.password) : undefined
      } catch (e) {
        if (e instanceof HttpError && e.status === 401)
          throw new HttpError(401, 'Invalid username or token.', challenge)
        throw e
      }
      if (!caller && (found.private || write))
        throw new HttpError(401, 'Authentication required', challenge)
      try {
        repoFor(gh, caller, found.owner, found.name, 'contents', write ? 'write' : 'read')
      } catch (e) {
        if (e instanceof HttpError && e.status === 403)
          throw new HttpError(403, 'Write access to repository not granted.')
        throw new HttpError(404, 'Repository not found.')
      }
      const username = caller && caller.kind !== 'installation' ? caller.username : undefined
      return { remoteUser: username ?? 'x-access-token', username }
    },
    afterPush: (access, before) => notifyPush(gh, found, access.username, before),
  })
  return true
}

/** The codeload listener's one route. */
export function codeload(gh: Gh, r: SandboxRequest): void {
  if (r.req.headers.authorization)
    throw new HttpError(400, 'Authorization headers are not accepted here')
  const [owner, name, kind, sha] = r.parts
  const m = /^legacy\.(zip|tar\.gz)$/.exec(kind ?? '')
  const repo = owner && name ? gh.state.repo(owner, name) : undefined
  if (!m || !repo || !sha || !/^[0-9a-f]{40}$/.test(sha) || r.parts.length !== 4)
    throw new HttpError(404, 'Not Found')
  const [exp, sig] = (r.url.searchParams.get('token') ?? '').split('.')
  const path = `/${repo.owner}/${repo.name}/legacy.${m[1]}/${sha}`
  const want = createHmac('sha256', gh.codeloadKey).update(`${path}|${exp}`).digest('base64url')
  if (!sig || !safeEqual(want, sig) || Number(exp) * 1000 < gh.now())
    throw new HttpError(404, 'Not Found')
  const format = m[1] as 'zip' | 'tar.gz'
  const prefix = `${repo.owner}-${repo.name}-${sha.slice(0, 7)}`
  const p = archive(gh.state.repoDir(repo.owner, repo.name), sha, format, prefix)
  r.res.writeHead(200, {
    'Content-Type': format === 'zip' ? 'application/zip' : 'application/x-gzip',
    'Content-Disposition': `attachment; filename=${prefix}.${format === 'zip' ? 'zip' : 'tar.gz'}`,
  })
  p.stdout.pipe(r.res)
  p.on('error', () => r.res.destroy())
}
