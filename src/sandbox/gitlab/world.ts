/**
 * @module sandbox/gitlab/world
 * Making things in the sandbox GitLab (users, groups, projects with real repositories,
 * memberships, access tokens with their bot users, OAuth applications), used by the admin API,
 * and the seeded world the CLI, the demo and the tests start from: docs/sandbox-gitlab.md lists it.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { commitFiles, git, initBare } from '../core/git.js'
import { HttpError } from '../core/http.js'
import { iso, type Gl } from './context.js'
import {
  ACCESS_LEVELS,
  PATH_RE,
  SCOPES,
  type AccessLevel,
  type GlApp,
  type GlGroup,
  type GlProject,
  type GlUser,
  type Scope,
  type Visibility,
} from './state.js'

const VIS: Visibility[] = ['private', 'internal', 'public']

export function checkScopes(v: unknown): Scope[] {
  const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/[\s,]+/) : []
  const scopes = list.filter((s) => s !== '')
  if (scopes.length === 0 || scopes.some((s) => !(SCOPES as readonly string[]).includes(s)))
    throw new HttpError(400, `scopes are some of ${SCOPES.join(', ')}`)
  return scopes as Scope[]
}

export function checkLevel(v: unknown): AccessLevel {
  if (!ACCESS_LEVELS.includes(v as AccessLevel))
    throw new HttpError(400, 'accessLevel is 10, 20, 30, 40 or 50')
  return v as AccessLevel
}

export function createUser(
  gl: Gl,
  o: {
    username: string
    password?: string
    name?: string
    email?: string
    publicEmail?: string
    admin?: boolean
    bot?: boolean
  },
): GlUser {
  const s = gl.state
  if (!PATH_RE.test(o.username)) throw new HttpError(400, 'username: letters, digits, _ . -')
  if (s.user(o.username) || s.groupByRef(o.username))
    throw new HttpError(409, `${o.username} is taken`)
  const u: GlUser = {
    id: s.newId(),
    username: o.username,
    password: o.password ?? randomBytes(12).toString('base64url'),
    email: o.email ?? `${o.username}@example.com`,
    publicEmail: o.publicEmail ?? '',
    displayName: o.name ?? o.username,
    admin: o.admin ?? false,
    bot: o.bot ?? false,
    createdAt: iso(gl.now()),
  }
  s.data.users.push(u)
  s.save()
  return u
}

export function createGroup(
  gl: Gl,
  o: { path: string; name?: string; parent?: string; visibility?: string; description?: string },
): GlGroup {
  const s = gl.state
  if (!PATH_RE.test(o.path)) throw new HttpError(400, 'path: letters, digits, _ . -')
  const parent = o.parent ? s.groupByRef(o.parent) : undefined
  if (o.parent && !parent) throw new HttpError(404, `No group ${o.parent}`)
  const fullPath = parent ? `${parent.fullPath}/${o.path}` : o.path
  if (s.groupByRef(fullPath) || (!parent && s.user(o.path)))
    throw new HttpError(409, `${fullPath} is taken`)
  const g: GlGroup = {
    id: s.newId(),
    name: o.name ?? o.path,
    path: o.path,
    fullPath,
    parentId: parent?.id ?? null,
    visibility: VIS.includes(o.visibility as Visibility) ? (o.visibility as Visibility) : 'private',
    description: o.description ?? '',
    createdAt: iso(gl.now()),
  }
  s.data.groups.push(g)
  s.save()
  return g
}

/** A project in a group (full path) or a user's namespace, its repository made on disk. */
export async function createProject(
  gl: Gl,
  o: {
    namespace: string
    path: string
    name?: string
    visibility?: string
    description?: string
    defaultBranch?: string
    files?: Record<string, string>
    author?: string
  },
): Promise<GlProject> {
  const s = gl.state
  if (!PATH_RE.test(o.path) || o.path.endsWith('.git'))
    throw new HttpError(400, 'path: letters, digits, _ . - (not ending .git)')
  const g = s.groupByRef(o.namespace)
  const owner = g ? undefined : s.user(o.namespace)
  if (!g && !owner) throw new HttpError(404, `No group or user ${o.namespace}`)
  if (s.projectByRef(`${g?.fullPath ?? owner!.username}/${o.path}`))
    throw new HttpError(409, `${o.namespace}/${o.path} exists`)
  const at = iso(gl.now())
  const p: GlProject = {
    id: s.newId(),
    name: o.name ?? o.path,
    path: o.path,
    namespaceKind: g ? 'group' : 'user',
    groupId: g?.id ?? null,
    owner: owner?.username ?? null,
    visibility: VIS.includes(o.visibility as Visibility) ? (o.visibility as Visibility) : 'private',
    description: o.description ?? '',
    createdAt: at,
    lastActivityAt: at,
  }
  const dir = s.projectDir(p)
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 })
  await initBare(dir, o.defaultBranch ?? 'main')
  s.data.projects.push(p)
  s.save()
  if (o.files) {
    const a = s.user(o.author ?? '') ?? owner
    await commitFiles(
      dir,
      o.defaultBranch ?? 'main',
      o.files,
      'Initial commit',
      { name: a?.displayName ?? 'Administrator', email: a?.email ?? 'admin@example.com' },
      new Date(gl.now()),
    )
  }
  return p
}

/** A personal, group or project access token (the latter two with a bot user holding `level`). */
export function createToken(
  gl: Gl,
  o: {
    kind: 'personal' | 'group' | 'project'
    username?: string
    target?: string
    scopes: Scope[]
    level?: AccessLevel
    name?: string
    expiresInSeconds?: number
  },
): { token: string; id: number; username: string } {
  const s = gl.state
  let username = o.username ?? ''
  let resource: string | undefined
  if (o.kind === 'personal') {
    if (!s.user(username)) throw new HttpError(404, `No user ${username}`)
  } else {
    const g = o.kind === 'group' ? s.groupByRef(o.target ?? '') : undefined
    const p = o.kind === 'project' ? s.projectByRef(o.target ?? '') : undefined
    if (!g && !p) throw new HttpError(404, `No ${o.kind} ${o.target ?? ''}`)
    resource = g ? `group:${g.id}` : `project:${p!.id}`
    const bot = createUser(gl, {
      username: `${o.kind}_${g?.id ?? p!.id}_bot_${randomBytes(4).toString('hex')}`,
      name: o.name ?? `${o.kind} bot`,
      bot: true,
    })
    bot.email = `${bot.username}@noreply.example.com`
    username = bot.username
    s.setMember(resource, username, o.level ?? 30)
  }
  const id = s.newId()
  const token = s.newPat({
    kind: o.kind === 'personal' ? 'pat' : o.kind,
    id,
    name: o.name ?? `${o.kind} token`,
    username,
    scopes: o.scopes,
    createdAt: iso(gl.now()),
    ...(o.expiresInSeconds === undefined
      ? {}
      : { expiresAt: gl.now() + o.expiresInSeconds * 1000 }),
    revoked: false,
    lastUsedAt: null,
    ...(resource ? { resource } : {}),
  })
  s.save()
  return { token, id, username }
}

export function createApp(
  gl: Gl,
  o: { name: string; redirectUri: string; scopes: Scope[]; confidential?: boolean; owner?: string },
): GlApp {
  const a: GlApp = {
    id: gl.state.newId(),
    uid: randomBytes(32).toString('hex'),
    secret: `gloas-${randomBytes(32).toString('hex')}`,
    name: o.name,
    redirectUri: o.redirectUri,
    scopes: o.scopes,
    confidential: o.confidential ?? true,
    owner: o.owner ?? null,
    createdAt: iso(gl.now()),
  }
  gl.state.data.apps.push(a)
  gl.state.save()
  return a
}

export interface SeededWorld {
  users: { username: string; password: string; role: string }[]
  tokens: { name: string; token: string; scopes: Scope[]; owner: string }[]
  app: { id: number; clientId: string; secret: string; redirectUri: string }
  commits: { first: string; second: string; release: string; feature: string }
}

/**
 * The seeded world: root (administrator), alice (Owner of acme), bob (Developer of
 * acme/platform), carol (Reporter of acme/platform/tools), dave (Guest of acme); projects
 * acme/platform/api (main, release/1.0, feature/login), acme/platform/tools/cli, acme/website
 * (public) and alice/notes; tokens for each; the instance OAuth application "Junction".
 */
export async function seedWorld(gl: Gl, junctionUrl: string): Promise<SeededWorld> {
  const s = gl.state
  const users = [
    {
      username: 'root',
      password: 'root-password',
      name: 'Administrator',
      admin: true,
      role: 'instance administrator',
    },
    { username: 'alice', password: 'alice-password', name: 'Alice Owner', role: 'Owner of acme' },
    {
      username: 'bob',
      password: 'bob-password',
      name: 'Bob Developer',
      role: 'Developer of acme/platform',
    },
    {
      username: 'carol',
      password: 'carol-password',
      name: 'Carol Reporter',
      role: 'Reporter of acme/platform/tools',
    },
    { username: 'dave', password: 'dave-password', name: 'Dave Guest', role: 'Guest of acme' },
  ]
  for (const u of users)
    createUser(gl, {
      ...u,
      email: `${u.username}@example.com`,
      publicEmail: u.username === 'alice' ? 'alice@example.com' : '',
    })
  const acme = createGroup(gl, { path: 'acme', name: 'Acme' })
  const platform = createGroup(gl, { path: 'platform', name: 'Platform', parent: 'acme' })
  const tools = createGroup(gl, { path: 'tools', name: 'Tools', parent: 'acme/platform' })
  s.setMember(`group:${acme.id}`, 'alice', 50)
  s.setMember(`group:${acme.id}`, 'dave', 10)
  s.setMember(`group:${platform.id}`, 'bob', 30)
  s.setMember(`group:${tools.id}`, 'carol', 20)
  const files = { 'README.md': '# api\n\nThe Acme platform API.\n' }
  const api = await createProject(gl, {
    namespace: 'acme/platform',
    path: 'api',
    name: 'API',
    files,
    author: 'alice',
  })
  const dir = s.projectDir(api)
  const alice = { name: 'Alice Owner', email: 'alice@example.com' }
  const first = (await git(dir, ['rev-parse', 'main'])).trim()
  const second = await commitFiles(
    dir,
    'main',
    { 'src/app.js': 'console.log("api")\n' },
    'Add the app\n\nThe first service.',
    alice,
    new Date(gl.now()),
  )
  await git(dir, ['update-ref', 'refs/heads/release/1.0', first])
  const release = await commitFiles(
    dir,
    'release/1.0',
    { VERSION: '1.0.0\n' },
    'Release 1.0',
    alice,
    new Date(gl.now()),
  )
  const feature = await commitFiles(
    dir,
    'feature/login',
    { 'src/login.js': 'export const login = () => true\n' },
    'Add login',
    alice,
    new Date(gl.now()),
  )
  await createProject(gl, {
    namespace: 'acme/platform/tools',
    path: 'cli',
    name: 'CLI',
    files: { 'README.md': '# cli\n' },
    author: 'alice',
  })
  await createProject(gl, {
    namespace: 'acme',
    path: 'website',
    name: 'Website',
    visibility: 'public',
    files: { 'index.html': '<h1>Acme</h1>\n' },
    author: 'alice',
  })
  await createProject(gl, {
    namespace: 'alice',
    path: 'notes',
    name: 'Notes',
    files: { 'notes.md': '# notes\n' },
  })
  const tokens: SeededWorld['tokens'] = []
  const add = (name: string, o: Parameters<typeof createToken>[1], owner: string) =>
    tokens.push({ name, token: createToken(gl, { ...o, name }).token, scopes: o.scopes, owner })
  add('root-admin', { kind: 'personal', username: 'root', scopes: ['api', 'admin_mode'] }, 'root')
  add(
    'alice-api',
    { kind: 'personal', username: 'alice', scopes: ['api', 'read_repository', 'write_repository'] },
    'alice',
  )
  add(
    'bob-read',
    { kind: 'personal', username: 'bob', scopes: ['read_api', 'read_repository'] },
    'bob',
  )
  add(
    'carol-read',
    { kind: 'personal', username: 'carol', scopes: ['read_api', 'read_repository'] },
    'carol',
  )
  add('dave-api', { kind: 'personal', username: 'dave', scopes: ['api'] }, 'dave')
  add(
    'api-project-token',
    {
      kind: 'project',
      target: 'acme/platform/api',
      scopes: ['api', 'write_repository'],
      level: 40,
    },
    'acme/platform/api (Maintainer)',
  )
  add(
    'acme-group-token',
    { kind: 'group', target: 'acme', scopes: ['read_api', 'read_repository'], level: 30 },
    'acme (Developer)',
  )
  const app = createApp(gl, {
    name: 'Junction',
    redirectUri: `${junctionUrl}/oauth/gitlab/callback`,
    scopes: ['api', 'read_user', 'read_repository', 'write_repository'],
  })
  return {
    users: users.map((u) => ({ username: u.username, password: u.password, role: u.role })),
    tokens,
    app: { id: app.id, clientId: app.uid, secret: app.secret, redirectUri: app.redirectUri },
    commits: { first, second, release, feature },
  }
}
