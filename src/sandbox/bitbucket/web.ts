/**
 * @module sandbox/bitbucket/web
 * bitbucket.org's website paths the adapter uses: Git over HTTP at `/{ws}/{slug}.git/…` (the
 * core's `git http-backend` bridge, with Bitbucket's user names and tokens and its Basic
 * challenge; a push sends webhooks) and archives at `/{ws}/{slug}/get/{rev}.zip|tar.gz` (no
 * tokens there, as on bitbucket.org).
 */
import { archive, resolveRef } from '../core/git.js'
import { serveGit } from '../core/git-http.js'
import { basicAuth, bearer, HttpError } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { gitCaller, gitReaches } from './auth.js'
import { notifyPush, type Bb } from './context.js'

const challenge = { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' }

export async function web(bb: Bb, r: SandboxRequest): Promise<void> {
  const { state, urls } = bb
  const { req, res, url: u, parts } = r
  const [ws, second, third, fourth] = parts
  if (ws && second?.endsWith('.git')) {
    const slug = second.slice(0, -4)
    const repo = state.repository(ws, slug)
    if (!repo) throw new HttpError(404, 'Repository not found')
    return serveGit(req, res, {
      projectRoot: state.reposRoot,
      pathInfo: `/${ws}/${second}/${parts.slice(2).join('/')}`,
      query: u.search.slice(1),
      repoDir: state.repoDir(ws, slug),
      authorize(write) {
        const c = gitCaller(state, req)
        if (req.headers.authorization && !c)
          throw new HttpError(401, 'Authentication failed', challenge)
        if ((repo.isPrivate || write) && !gitReaches(state, c, ws, slug))
          throw new HttpError(c ? 403 : 401, 'Access denied', c ? {} : challenge)
        return { remoteUser: c?.username ?? 'x-token-auth', username: c?.username }
      },
      afterPush: (access, before) => notifyPush(bb, repo, access.username, before),
    })
  }
  if (ws && second && third === 'get' && fourth) {
    const m = /^(.+)\.(zip|tar\.gz)$/.exec(fourth)
    const repo = state.repository(ws, second)
    if (!m || !repo) throw new HttpError(404, 'Not found')
    // bitbucket.org's downloads are its website, which takes no token (OAuth, access tokens):
    // "This endpoint does not support token-based authentication" (403), as Atlassian answered
    // on Stack Overflow (34452088) and as composer#5584 found for /get/ archives. A private
    // repository without a session sends the browser to the login page.
    const basic = basicAuth(req)
    if (
      bearer(req) ||
      basic?.user === 'x-token-auth' ||
      basic?.user === 'x-bitbucket-api-token-auth' ||
      u.searchParams.has('access_token')
    )
      throw new HttpError(403, 'This endpoint does not support token-based authentication.')
    const c = gitCaller(state, req)
    if (req.headers.authorization && !c) throw new HttpError(401, 'Authentication failed')
    if (repo.isPrivate && !c)
      throw new HttpError(302, 'Log in to download this repository', {
        Location: `${urls.web}/account/signin/?next=${encodeURIComponent(u.pathname)}`,
      })
    if (repo.isPrivate && !gitReaches(state, c, ws, second))
      throw new HttpError(403, 'Access denied')
    const dir = state.repoDir(ws, second)
    const id = await resolveRef(dir, m[1]!)
    if (!id) throw new HttpError(404, 'No such revision')
    const format = m[2] as 'zip' | 'tar.gz'
    const prefix = `${ws}-${second}-${id.slice(0, 12)}`
    const p = archive(dir, id, format, prefix)
    res.writeHead(200, {
      'Content-Type': format === 'zip' ? 'application/zip' : 'application/x-gzip',
      'Content-Disposition': `attachment; filename="${prefix}.${format}"`,
    })
    p.stdout.pipe(res)
    p.on('error', () => res.destroy())
    return
  }
  throw new HttpError(404, 'Not found')
}
