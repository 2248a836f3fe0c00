/**
 * @module sandbox/github/auth
 * GitHub's rules for who a request comes from: the app's JWT (RS256 checked with the app's public
 * key; expired, issued in the future beyond 60 s, longer than 10 minutes, unknown issuer:
 * refused), installation tokens (`ghs_…`: 1 h, narrowed to repositories and permissions, refused
 * when the installation is suspended) and user-to-server tokens (`ghu_…`: the user's access
 * within the app's installations), fine-grained personal access tokens (`github_pat_…`: one
 * resource owner, all or selected repositories of it, their own permissions, an expiry); and what
 * each reaches: a private repository out of reach is
 * 404, as GitHub answers; a permission not granted is 403.
 */
import { createVerify } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { apiError, type Gh } from './context.js'
import {
  LEVELS,
  type GhApp,
  type GhInstallation,
  type GhRepo,
  type GhToken,
  type Level,
} from './state.js'

const b64json = (s: string): unknown => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))

/** `Bearer X` or `token X` (GitHub takes both). */
export function presented(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization
  const m = h ? /^(?:Bearer|token)\s+(\S+)$/i.exec(h) : null
  return m?.[1]
}

/** The app a JWT was signed by. @throws 401 as GitHub words it */
export function appFromJwt(gh: Gh, req: IncomingMessage): GhApp {
  const jwt = presented(req)
  const refuse = (message: string) => {
    gh.state.stats.jwtRefusals++
    return apiError(401, message)
  }
  const parts = jwt?.split('.') ?? []
  if (parts.length !== 3) throw refuse('A JSON web token could not be decoded')
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = b64json(parts[0]!) as Record<string, unknown>
    claims = b64json(parts[1]!) as Record<string, unknown>
  } catch {
    throw refuse('A JSON web token could not be decoded')
  }
  if (header['alg'] !== 'RS256') throw refuse('A JSON web token could not be decoded')
  const iss = claims['iss']
  const app =
    typeof iss === 'number' || (typeof iss === 'string' && iss !== '')
      ? gh.state.data.apps.find((a) => a.id === Number(iss) || a.clientId === String(iss))
      : undefined
  if (!app) throw refuse("'Issuer' claim ('iss') must be an Integer or the app's client ID")
  const ok = createVerify('RSA-SHA256')
    .update(`${parts[0]}.${parts[1]}`)
    .verify(app.publicKey, Buffer.from(parts[2]!, 'base64url'))
  if (!ok) throw refuse('A JSON web token could not be decoded')
  const iat = claims['iat']
  const exp = claims['exp']
  const now = Math.floor(gh.jwtNow() / 1000)
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now + 60)
    throw refuse(
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    )
  if (typeof exp !== 'number' || exp <= now)
    throw refuse(
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    )
  if (exp - iat > 600) throw refuse("'Expiration time' claim ('exp') is too far in the future")
  return app
}

export type Caller =
  | { kind: 'installation'; t: GhToken; installation: GhInstallation; app: GhApp }
  | { kind: 'user'; t: GhToken; username: string; app: GhApp }
  | { kind: 'pat'; t: GhToken; username: string }

/**
 * Who a token request comes from, undefined without a token. @throws 401 Bad credentials (unknown,
 * revoked, expired, a JWT where a token belongs); 403 for a suspended installation
 */
export function callerOf(
  gh: Gh,
  req: IncomingMessage,
  secret = presented(req),
): Caller | undefined {
  if (!secret) return undefined
  const t = gh.state.liveToken(secret, gh.now())
  if (t?.kind === 'pat') {
    if (!t.username || !gh.state.userByLogin(t.username)) throw apiError(401, 'Bad credentials')
    return { kind: 'pat', t, username: t.username }
  }
  const app = t && gh.state.app(t.appId)
  if (!t || !app || t.kind === 'refresh') throw apiError(401, 'Bad credentials')
  if (t.kind === 'user') return { kind: 'user', t, username: t.username!, app }
  const installation = gh.state.installation(t.installationId ?? 0)
  if (!installation) throw apiError(401, 'Bad credentials')
  if (installation.suspendedAt) throw apiError(403, 'This installation has been suspended')
  return { kind: 'installation', t, installation, app }
}

export function requireCaller(gh: Gh, req: IncomingMessage): Caller {
  const c = callerOf(gh, req)
  if (!c) throw apiError(401, 'Requires authentication')
  return c
}

export const levelAtLeast = (have: Level | undefined, need: Level) =>
  have !== undefined && LEVELS.indexOf(have) >= LEVELS.indexOf(need)

/** The installations of the app a user's token sees (their own account, their organizations'). */
export function userInstallations(gh: Gh, appId: number, username: string): GhInstallation[] {
  return gh.state.data.installations.filter((i) => {
    if (i.appId !== appId) return false
    const a = gh.state.account(i.account)
    if (!a) return false
    if (a.type === 'User') return a.user.username === username
    return a.org.admins.includes(username) || a.org.members.includes(username)
  })
}

/** The repositories a caller's token reaches (beyond public ones). */
export function reachable(gh: Gh, c: Caller): GhRepo[] {
  if (c.kind === 'installation') {
    const repos = gh.state.installationRepos(c.installation)
    const only = c.t.repositoryIds
    return only ? repos.filter((r) => only.includes(r.id)) : repos
  }
  if (c.kind === 'pat') return patRepos(gh, c.t)
  return userInstallations(gh, c.app.id, c.username)
    .filter((i) => !i.suspendedAt)
    .flatMap((i) => gh.state.installationRepos(i))
    .filter((r) => gh.state.canRead(c.username, r))
}

/** The permissions a caller holds on repositories it reaches. */
function permissionsOf(gh: Gh, c: Caller): Record<string, Level> {
  if (c.kind !== 'user') return { metadata: 'read', ...(c.t.permissions ?? {}) }
  const i = userInstallations(gh, c.app.id, c.username)[0]
  return { metadata: 'read', ...(i?.permissions ?? c.app.permissions) }
}

/**
 * The repository, when the caller reaches it with `permission` at `level`: a private one out of
 * reach (or none) is 404; a public one is readable by anyone; a missing permission is 403.
 */
export function repoFor(
  gh: Gh,
  c: Caller | undefined,
  owner: string,
  name: string,
  permission = 'metadata',
  level: Level = 'read',
): GhRepo {
  const r = gh.state.repo(owner, name)
  if (!r) throw apiError(404, 'Not Found')
  const reaches = c ? reachable(gh, c).some((x) => x.id === r.id) : false
  if (!reaches) {
    if (!r.private && level === 'read') return r
    throw apiError(404, 'Not Found')
  }
  if (!levelAtLeast(permissionsOf(gh, c!)[permission], level))
    throw apiError(
      403,
      c!.kind === 'pat'
        ? 'Resource not accessible by personal access token'
        : 'Resource not accessible by integration',
    )
  return r
}

/**
 * The repositories a fine-grained personal access token reaches: its owner's (all, or the
 * selected ones) that its user can still read.
 */
export function patRepos(gh: Gh, t: GhToken): GhRepo[] {
  const owner = (t.owner ?? '').toLowerCase()
  const user = t.username ?? ''
  return gh.state.data.repositories.filter(
    (r) =>
      r.owner.toLowerCase() === owner &&
      (t.repositorySelection === 'all' || (t.repositoryIds ?? []).includes(r.id)) &&
      gh.state.canRead(user, r),
  )
}
