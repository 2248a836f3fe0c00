/**
 * Each REST answer the adapter reads, taken from GitHub's OpenAPI description itself
 * (shared/spec/github: api.github.com and GHES 3.19 subsets of @octokit/openapi 23.0.2): the
 * example is first validated against the response schema (so the input is a real answer shape),
 * then converted. A converter reading a member the schema does not promise, or reading it wrong,
 * fails here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import {
  toBranch,
  toChangedFiles,
  toCommit,
  toPullRequest,
  toRepository,
  toShortBranch,
  toTarget,
  type GhBranch,
  type GhCommit,
  type GhComparison,
  type GhInstallation,
  type GhPullRequest,
  type GhRepository,
  type GhShortBranch,
} from './convert.js'

const SPEC = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'spec', 'github')
type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
  components: { examples: Record<string, { value: unknown }> }
}
const docs = Object.fromEntries(
  (['rest-api.github.com', 'rest-ghes-3.19'] as const).map((name) => {
    const doc = JSON.parse(readFileSync(join(SPEC, `${name}.subset.json`), 'utf8')) as Doc
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false })
    ;(addFormats as unknown as (a: Ajv) => void)(ajv)
    ajv.addSchema({ $id: name, components: nullable(doc.components) })
    return [name, { doc, ajv }]
  }),
)

/**
 * OpenAPI 3.0's `nullable` as JSON Schema (`anyOf` with `null`), which Ajv cannot read where the
 * schema has no `type` (GitHub's `nullable` + `anyOf`/`allOf`).
 */
function nullable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nullable)
  if (v === null || typeof v !== 'object') return v
  const o: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) o[k] = nullable(x)
  if (o['nullable'] !== true) return o
  delete o['nullable']
  return { anyOf: [{ type: 'null' }, o] }
}

/**
 * The example answer of `method path status`, validated in both targets against its schema for
 * the members the converter `reads` (JSON pointers without array indices): GitHub's examples lag some schemas in
 * members Junction never reads (e.g. `language`, branch protection), which are not held against
 * them; a member the converter reads that is missing or mistyped fails.
 */
function example<T>(path: string, method: string, reads: string[], status = 200): T {
  let first: unknown
  for (const [name, { doc, ajv }] of Object.entries(docs)) {
    const res = doc.paths[path]?.[method]?.responses[String(status)] as
      | {
          content: {
            'application/json': { schema: unknown; examples: Record<string, { $ref: string }> }
          }
        }
      | undefined
    expect(res, `${name}: ${method} ${path} ${status}`).toBeDefined()
    const media = res!.content['application/json']
    const ref = Object.values(media.examples)[0]!.$ref
    const value = doc.components.examples[ref.split('/').pop()!]!.value
    const validate = ajv.compile(nullable(rewrite(media.schema, name)) as object)
    validate(value)
    const relevant = (validate.errors ?? []).filter((e) => {
      let at = e.instancePath.replace(/\/\d+(?=\/|$)/g, '')
      if (e.keyword === 'required')
        at += `/${(e.params as { missingProperty: string }).missingProperty}`
      return reads.some((r) => r === at || r.startsWith(`${at}/`))
    })
    expect(relevant.slice(0, 5), `${name}: ${method} ${path} ${status}`).toEqual([])
    first ??= value
  }
  return first as T
}

/** Points the inline schema's `#/components/…` refs at the registered document. */
function rewrite(schema: unknown, id: string): unknown {
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/', `"${id}#/components/`),
  ) as unknown
}

/** What each converter reads (the `Gh*` types of convert.ts), as JSON pointers without indices. */
const under = (prefix: string, paths: string[]) => paths.map((x) => `${prefix}${x}`)
const INSTALLATION = [
  '/id',
  '/account/login',
  '/account/slug',
  '/account/name',
  '/repository_selection',
  '/suspended_at',
]
const REPO = [
  '/id',
  '/name',
  '/full_name',
  '/owner/login',
  '/private',
  '/default_branch',
  '/clone_url',
]
const COMMIT = [
  '/sha',
  '/commit/message',
  '/commit/author/name',
  '/commit/author/date',
  '/commit/committer/date',
  '/author/login',
  '/parents/sha',
]
const FILES = ['/files/filename', '/files/status', '/files/previous_filename']
const PULL = [
  '/number',
  '/state',
  '/title',
  '/merged_at',
  '/head/ref',
  '/head/sha',
  '/head/repo/full_name',
  '/base/ref',
  '/base/sha',
]

describe('GitHub answers → adapter types (examples of the OpenAPI description)', () => {
  it('GET /app/installations/{installation_id} → an installation target', () => {
    const i = example<GhInstallation>('/app/installations/{installation_id}', 'get', INSTALLATION)
    expect(toTarget(i)).toEqual({ id: '1', slug: 'octocat', name: 'octocat', administrator: true })
    expect(i.suspended_at).toBeNull()
  })

  it('GET /user/installations → installation targets', () => {
    const body = example<{ installations: GhInstallation[] }>(
      '/user/installations',
      'get',
      under('/installations', INSTALLATION),
    )
    expect(body.installations.map(toTarget).map((t) => t.id)).toEqual(
      body.installations.map((i) => String(i.id)),
    )
  })

  it('POST /app/installations/{id}/access_tokens → a token with an expiry', () => {
    const t = example<{ token: string; expires_at: string }>(
      '/app/installations/{installation_id}/access_tokens',
      'post',
      ['/token', '/expires_at'],
      201,
    )
    expect(typeof t.token).toBe('string')
    expect(Number.isNaN(Date.parse(t.expires_at))).toBe(false)
  })

  it('GET /installation/repositories and GET /repos/{owner}/{repo} → repositories', () => {
    const list = example<{ repositories: GhRepository[] }>(
      '/installation/repositories',
      'get',
      under('/repositories', REPO),
    )
    expect(list.repositories.map((r) => toRepository(r, 'https://github.com'))).toEqual([
      {
        fullName: 'octocat/Hello-World',
        owner: 'octocat',
        name: 'Hello-World',
        id: '1296269',
        isPrivate: false,
        defaultBranch: 'master',
        cloneUrl: 'https://github.com/octocat/Hello-World.git',
      },
    ])
    const one = example<GhRepository>('/repos/{owner}/{repo}', 'get', REPO)
    expect(toRepository(one, 'https://github.com')).toMatchObject({
      fullName: 'octocat/Hello-World',
      id: '1296269',
      defaultBranch: 'master',
    })
  })

  it('GET /repos/{o}/{r}/branches (sha only) and /branches/{branch} (full commit)', () => {
    const list = example<GhShortBranch[]>('/repos/{owner}/{repo}/branches', 'get', [
      '/name',
      '/commit/sha',
    ])
    expect(list.map(toShortBranch)).toEqual([
      {
        name: 'master',
        commit: {
          id: 'c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc',
          authorDate: '',
          message: '',
          author: '',
          parents: [],
        },
      },
    ])
    const one = example<GhBranch>('/repos/{owner}/{repo}/branches/{branch}', 'get', [
      '/name',
      ...under('/commit', COMMIT),
    ])
    expect(toBranch(one)).toEqual({
      name: 'main',
      commit: {
        id: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
        authorDate: '2012-03-06T23:06:50Z',
        message: 'Merge pull request #6 from Spaceghost/patch-1\n\nNew line at end of file.',
        author: 'The Octocat',
        parents: [
          '553c2077f0edc3d5dc5d17262f6aa498e69d6f8e',
          '762941318ee16e59dabbacb1b4049eec22f0d303',
        ],
      },
    })
  })

  it('GET /repos/{o}/{r}/commits/{ref} → a commit and its files', () => {
    const c = example<GhCommit>('/repos/{owner}/{repo}/commits/{ref}', 'get', [...COMMIT, ...FILES])
    expect(toCommit(c)).toEqual({
      id: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
      authorDate: '2011-04-14T16:00:49Z',
      message: 'Fix all the bugs',
      author: 'Monalisa Octocat',
      parents: ['6dcb09b5b57875f334f61aebed695e2e4193db5e'],
    })
    expect(toChangedFiles(c.files!)).toEqual([{ status: 'modified', path: 'file1.txt' }])
  })

  it('GET /repos/{o}/{r}/compare/{basehead} → changed files and the merge base', () => {
    const cmp = example<GhComparison>('/repos/{owner}/{repo}/compare/{basehead}', 'get', [
      '/status',
      '/merge_base_commit/sha',
      '/total_commits',
      ...FILES,
    ])
    expect(cmp.merge_base_commit.sha).toMatch(/^[0-9a-f]{40}$/)
    expect(toChangedFiles(cmp.files!)).toEqual([{ status: 'added', path: 'file1.txt' }])
  })

  it('diff entries: renamed keeps the old path, copied is added, changed is modified, unchanged dropped', () => {
    expect(
      toChangedFiles([
        { filename: 'b', status: 'renamed', previous_filename: 'a' },
        { filename: 'c', status: 'copied', previous_filename: 'b' },
        { filename: 'd', status: 'changed' },
        { filename: 'e', status: 'unchanged' },
        { filename: 'f', status: 'removed' },
      ]),
    ).toEqual([
      { status: 'renamed', path: 'b', oldPath: 'a' },
      { status: 'added', path: 'c' },
      { status: 'modified', path: 'd' },
      { status: 'removed', path: 'f' },
    ])
  })

  it('GET /repos/{o}/{r}/pulls and /pulls/{pull_number} → pull requests', () => {
    const list = example<GhPullRequest[]>('/repos/{owner}/{repo}/pulls', 'get', PULL)
    const one = example<GhPullRequest>('/repos/{owner}/{repo}/pulls/{pull_number}', 'get', PULL)
    for (const p of [...list, one])
      expect(toPullRequest(p, 'octocat/Hello-World')).toEqual({
        number: 1347,
        title: 'Amazing new feature',
        state: 'OPEN',
        sourceBranch: 'new-topic',
        sourceCommit: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
        sourceRepository: 'octocat/Hello-World',
        destinationBranch: 'master',
        destinationCommit: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
      })
    const merged = { ...one, state: 'closed' as const, merged_at: '2011-01-26T19:01:12Z' }
    expect(toPullRequest(merged, 'octocat/Hello-World').state).toBe('MERGED')
    expect(toPullRequest({ ...merged, merged_at: null }, 'x/y').state).toBe('CLOSED')
  })
})
