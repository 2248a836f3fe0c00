/**
 * @module sandbox/github/context
 * What every part of the sandbox GitHub shares: state, URLs (web, REST API — `/api/v3` in
 * enterprise mode — and the codeload listener), the clock, injected failures, deliveries, web
 * sessions and manifest codes; and helpers: GitHub-shaped errors, paging with `Link` headers,
 * creating repositories.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Deliveries } from '../core/deliveries.js'
import type { Failures } from '../core/failures.js'
import { commitFiles, initBare } from '../core/git.js'
import { HttpError } from '../core/http.js'
import type { HookLogEntry } from './deliver.js'
import { LOGIN, REPO_NAME, type GhRepo, type GitHubState } from './state.js'

export interface Urls {
  /** `http://host:port` (github.com, or the GHES host). */
  web: string
  /** The REST API: the web origin (github.com mode) or `{web}/api/v3` (enterprise). */
  api: string
  /** The codeload listener's origin (another port: another origin). */
  codeload: string
}

/** An app made by the manifest flow, until its code is converted. */
export interface ManifestCode {
  appId: number
  pem: string
  expiresAt: number
}

export interface Gh {
  state: GitHubState
  urls: Urls
  enterprise: boolean
  failures: Failures
  deliveries: Deliveries
  /** The sandbox clock (real time, or the test's, plus the admin offset): tokens, codes. */
  now(): number
  /** The time app JWTs are checked against (without the admin offset; see docs). */
  jwtNow(): number
  /** Web sessions: session id → username (memory only). */
  sessions: Map<string, string>
  /** Manifest flow codes (single-use, 1 h; memory only). */
  manifestCodes: Map<string, ManifestCode>
  /** The app webhook deliveries, as `GET /app/hook/deliveries` lists them (memory only). */
  hookLog: HookLogEntry[]
  /** Keeps a background task (an event being built and sent) until it settles. */
  track(p: Promise<unknown>): void
  /** The tail of the queue installation events go through, in order. */
  chain: Promise<void>
  /** Key that signs codeload links (memory only: links die with the process, as GitHub's expire). */
  codeloadKey: Buffer
}

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** GitHub's error body. */
export function ghError(message: string, docs = 'https://docs.github.com/rest') {
  return { message, documentation_url: docs }
}

export const apiError = (status: number, message: string, headers: Record<string, string> = {}) =>
  new HttpError(status, message, headers)

export const notFound = () => apiError(404, 'Not Found')

/** `per_page` (default 30, at most 100; the maxPagelen knob caps it) and `page` of a listing. */
export function paging(gh: Gh, u: URL): { page: number; perPage: number } {
  const perPage = Number(u.searchParams.get('per_page') ?? '30')
  const page = Number(u.searchParams.get('page') ?? '1')
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1)
    throw apiError(422, 'Validation Failed')
  const cap = gh.state.data.settings.maxPagelen
  const p = Math.min(perPage, 100)
  return { page, perPage: cap ? Math.min(cap, p) : p }
}

/** The `Link` header of a page (`next`, `last`, `first`, `prev`), empty when one page. */
export function linkHeader(u: URL, page: number, perPage: number, total: number) {
  const last = Math.max(1, Math.ceil(total / perPage))
  const at = (p: number) => {
    const x = new URL(u)
    x.searchParams.set('per_page', String(perPage))
    x.searchParams.set('page', String(p))
    return x.toString()
  }
  const links: string[] = []
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`, `<${at(1)}>; rel="first"`)
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`)
  return links.length > 0 ? { Link: links.join(', ') } : ({} as Record<string, string>)
}

/** One page of `items` and its `Link` header. */
export function pageOf<T>(gh: Gh, u: URL, items: T[]) {
  const { page, perPage } = paging(gh, u)
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: linkHeader(u, page, perPage, items.length),
  }
}

/** Creates a repository on disk (optionally with a first commit of `files`). */
export async function createRepository(gh: Gh, input: Record<string, unknown>): Promise<GhRepo> {
  const { state } = gh
  const owner = String(input['owner'] ?? '')
  const name = String(input['name'] ?? '')
  const account = state.account(owner)
  if (!account) throw new HttpError(404, `No user or organization '${owner}'`)
  if (!REPO_NAME.test(name) || name === '.' || name === '..' || name.endsWith('.git'))
    throw new HttpError(422, 'name must be letters, digits, . - _ (at most 100), not ending .git')
  if (state.repo(owner, name)) throw new HttpError(422, `Repository ${owner}/${name} exists`)
  const login = account.type === 'User' ? account.user.username : account.org.login
  const branch = typeof input['defaultBranch'] === 'string' ? input['defaultBranch'] : 'main'
  const dir = state.repoDir(login, name)
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 })
  await initBare(dir, branch)
  const at = iso(gh.now())
  const r: GhRepo = {
    id: state.newId(),
    owner: login,
    name,
    private: input['private'] !== false,
    description: typeof input['description'] === 'string' ? input['description'] : '',
    createdAt: at,
    pushedAt: at,
  }
  state.data.repositories.push(r)
  state.save()
  const files = input['files']
  if (files && typeof files === 'object' && !Array.isArray(files))
    await commitFiles(dir, branch, files as Record<string, string>, 'Initial commit', {
      name: 'Sandbox',
      email: 'sandbox@github.invalid',
    })
  return r
}

export function checkLogin(login: string): void {
  if (!LOGIN.test(login))
    throw new HttpError(422, 'login must be letters, digits and single hyphens (at most 39)')
}
