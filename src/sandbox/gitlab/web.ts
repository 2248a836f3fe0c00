/**
 * @module sandbox/gitlab/web
 * Git over HTTP at `/<full/namespace/path>/<project>.git/…` (the core's `git http-backend`
 * bridge) with GitLab's credentials (oauth2.md "Access Git over HTTPS"): Basic `oauth2:<OAuth
 * token>`, or any user name with a personal, group or project access token. Cloning takes
 * `read_repository` (or `write_repository`, or `api`) and the Reporter role on a private project;
 * pushing takes `write_repository` (or `api`) and Developer. A push fires the project's hooks.
 */
import { serveGit } from '../core/git-http.js'
import { basicAuth, HttpError } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { callerOfToken, canSeeProject, levelOn, type Caller } from './auth.js'
import type { Gl } from './context.js'
import { notifyPush } from './events.js'
import type { GlUser, Scope } from './state.js'

const challenge = { 'WWW-Authenticate': 'Basic realm="GitLab"' }
const denied = () =>
  new HttpError(
    401,
    'HTTP Basic: Access denied. If a token was provided, it was either incorrect, expired, or improperly scoped.',
    challenge,
  )

/** Answers `/<path>.git/…`; false for any other path. */
export async function gitRoute(gl: Gl, r: SandboxRequest): Promise<boolean> {
  const i = r.parts.findIndex((s, k) => k >= 1 && s.endsWith('.git'))
  if (i < 1 || r.parts.length < i + 2) return false
  const full = [...r.parts.slice(0, i), r.parts[i]!.slice(0, -4)].join('/')
  const p = gl.state.projectByRef(full)
  const missing = () =>
    new HttpError(
      404,
      "The project you were looking for could not be found or you don't have permission to view it.",
    )
  if (!p) throw missing()
  const ns = gl.state.namespacePath(p)
  await serveGit<{ remoteUser: string; user: GlUser | undefined }>(r.req, r.res, {
    projectRoot: gl.state.reposRoot,
    pathInfo: `/${ns}/${p.path}.git/${r.parts.slice(i + 1).join('/')}`,
    query: r.url.search.slice(1),
    repoDir: gl.state.projectDir(p),
    authorize(write) {
      const b = basicAuth(r.req)
      let caller: Caller | undefined
      if (b) {
        try {
          caller = callerOfToken(gl, b.password)
        } catch {
          throw denied()
        }
        // An OAuth token is taken with the user name oauth2 only; access tokens with any.
        if (caller.token.kind === 'oauth' && b.user !== 'oauth2') throw denied()
        const need: Scope[] = write
          ? ['write_repository', 'api']
          : ['read_repository', 'write_repository', 'api']
        if (!need.some((s) => caller!.token.scopes.includes(s))) throw denied()
      } else if (r.req.headers.authorization) throw denied()
      if (!caller && (write || p.visibility !== 'public'))
        throw new HttpError(401, 'HTTP Basic: Access denied', challenge)
      if (!canSeeProject(gl, caller, p)) throw missing()
      const level = levelOn(gl, caller, p)
      if (write && level < 30)
        throw new HttpError(403, 'You are not allowed to push code to this project.')
      if (!write && level < 20 && p.visibility === 'private')
        throw new HttpError(403, 'You are not allowed to download code from this project.')
      return { remoteUser: caller?.user.username ?? 'anonymous', user: caller?.user }
    },
    afterPush: async (access, before) => {
      if (access.user) await notifyPush(gl, p, access.user, before)
    },
  })
  return true
}
