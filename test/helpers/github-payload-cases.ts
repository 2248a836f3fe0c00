/**
 * A small world (a user, an organization, their repositories, commits, installations of the
 * sandbox's GitHub App, a pull request) and every webhook payload the sandbox GitHub sends about
 * it, built by src/sandbox/github/payloads.ts for one set of base URLs: the cases
 * test/sandbox/github-payloads.test.ts holds to GitHub's schemas and examples and feeds to the
 * parser.
 */
import {
  authorizationRevokedPayload,
  createPayload,
  deletePayload,
  installationPayload,
  installationRepositoriesPayload,
  pingPayload,
  pullRequestPayload,
  pushPayload,
  type HookAccount,
  type HookCommit,
  type HookInstallation,
  type HookPullRequest,
  type HookRepository,
  type HookUrls,
  type PullRequestAction,
} from '../../src/sandbox/github/payloads.js'

type Json = Record<string, unknown>

export const alice: HookAccount = {
  login: 'alice',
  id: 1001,
  type: 'User',
  email: 'alice@example.com',
}
export const bob: HookAccount = { login: 'bob', id: 1002, type: 'User', email: 'bob@example.com' }
export const acme: HookAccount = {
  login: 'acme',
  id: 2001,
  type: 'Organization',
  description: 'Acme',
}
const repoOf = (owner: HookAccount, id: number, name: string): HookRepository => ({
  id,
  name,
  owner,
  private: owner.type === 'Organization',
  defaultBranch: 'main',
  description: owner.type === 'Organization' ? 'The app' : null,
  createdAt: '2026-11-01T09:00:00Z',
  updatedAt: '2026-11-20T10:00:00Z',
  pushedAt: '2026-12-01T08:00:00Z',
})
export const orgRepo = repoOf(acme, 3001, 'app')
export const userRepo = repoOf(alice, 3002, 'notes')
export const sha = (c: string) => c.repeat(40)
export const ZERO = sha('0')
const commit = (id: string, files: Partial<HookCommit> = {}): HookCommit => ({
  id,
  treeId: sha('e'),
  message: `Change ${id.slice(0, 4)}\n\nWith a body.`,
  timestamp: '2026-12-01T08:00:00+01:00',
  author: { name: 'Alice', email: 'alice@example.com', username: 'alice' },
  committer: { name: 'Bob', email: 'bob@example.com', username: 'bob' },
  added: [],
  removed: [],
  modified: [],
  ...files,
})
export const c1 = commit(sha('1'), { added: ['src/new.ts'], modified: ['README.md'] })
export const c2 = commit(sha('2'), { removed: ['old.txt'], modified: ['README.md'] })
const installationOf = (account: HookAccount, id: number): HookInstallation => ({
  id,
  appId: 77,
  appSlug: 'junction-sandbox',
  clientId: 'Iv1.0123456789abcdef',
  account,
  repositorySelection: 'selected',
  permissions: { contents: 'read', metadata: 'read', pull_requests: 'read' },
  events: ['push', 'pull_request'],
  createdAt: '2026-11-02T09:00:00Z',
  updatedAt: '2026-11-02T09:00:00Z',
})
export const orgInstallation = installationOf(acme, 501)
export const userInstallation = installationOf(alice, 502)
const pr = (action: PullRequestAction, repo: HookRepository): HookPullRequest => ({
  id: 9001,
  number: 7,
  title: 'Add the feature',
  body: 'It does things.',
  user: alice,
  head: { ref: 'feature', sha: sha('a'), repository: repo },
  base: { ref: 'main', sha: sha('b'), repository: repo },
  state: action === 'closed' ? 'closed' : 'open',
  createdAt: '2026-12-01T08:00:00Z',
  updatedAt: '2026-12-01T09:00:00Z',
  ...(action === 'closed' ? { closedAt: '2026-12-01T09:00:00Z' } : {}),
  commits: 2,
  additions: 10,
  deletions: 1,
  changedFiles: 3,
})

export interface Case {
  name: string
  /** X-GitHub-Event. */
  event: string
  action?: string
  body: Json
  owner: HookAccount
}

/** Every payload the sandbox sends, built for one mode's base URLs. */
export function payloadCases(urls: HookUrls): Case[] {
  const out: Case[] = []
  const add = (name: string, event: string, body: object, owner: HookAccount) =>
    out.push({
      name,
      event,
      body: body as Json,
      owner,
      ...(typeof (body as Json)['action'] === 'string'
        ? { action: (body as Json)['action'] as string }
        : {}),
    })
  for (const [repo, inst] of [
    [orgRepo, orgInstallation],
    [userRepo, userInstallation],
  ] as const) {
    const o = repo.owner.type === 'Organization' ? 'org' : 'user'
    const base = { urls, repository: repo, installation: { id: inst.id }, sender: alice }
    const push = (ref: string, before: string, after: string, more = {}) =>
      pushPayload({ ...base, ref, before, after, commits: [c1, c2], ...more })
    add(`${o} push`, 'push', push('refs/heads/main', sha('9'), c2.id), repo.owner)
    add(
      `${o} push by an account without a public email`,
      'push',
      pushPayload({
        ...base,
        sender: { login: 'carol', id: 1003, type: 'User' },
        ref: 'refs/heads/main',
        before: sha('9'),
        after: c1.id,
        commits: [{ ...c1, author: { name: 'Carol', email: 'carol@example.com' } }],
      }),
      repo.owner,
    )
    add(
      `${o} push creating a branch`,
      'push',
      push('refs/heads/feature', ZERO, c2.id, { baseRef: null }),
      repo.owner,
    )
    add(
      `${o} push deleting a branch`,
      'push',
      push('refs/heads/feature', c2.id, ZERO, { commits: [] }),
      repo.owner,
    )
    add(
      `${o} forced push`,
      'push',
      push('refs/heads/main', sha('8'), c2.id, { forced: true, commits: [c2] }),
      repo.owner,
    )
    add(
      `${o} tag push`,
      'push',
      push('refs/tags/v1.0', ZERO, c2.id, {
        commits: [],
        headCommit: c2,
        baseRef: 'refs/heads/main',
      }),
      repo.owner,
    )
    add(
      `${o} tag deleted`,
      'push',
      push('refs/tags/v1.0', c2.id, ZERO, { commits: [] }),
      repo.owner,
    )
    add(
      `${o} create`,
      'create',
      createPayload({ ...base, ref: 'feature', refType: 'branch' }),
      repo.owner,
    )
    add(
      `${o} create tag`,
      'create',
      createPayload({ ...base, ref: 'v1.0', refType: 'tag' }),
      repo.owner,
    )
    add(
      `${o} delete`,
      'delete',
      deletePayload({ ...base, ref: 'feature', refType: 'branch' }),
      repo.owner,
    )
    for (const action of ['opened', 'synchronize', 'reopened', 'edited'] as const)
      add(
        `${o} pull_request ${action}`,
        'pull_request',
        pullRequestPayload({
          ...base,
          action,
          pullRequest: pr(action, repo),
          ...(action === 'synchronize' ? { before: sha('c'), after: sha('a') } : {}),
          ...(action === 'edited' ? { changes: { title: 'Old title', body: 'Old body' } } : {}),
        }),
        repo.owner,
      )
    add(
      `${o} pull_request closed merged`,
      'pull_request',
      pullRequestPayload({
        ...base,
        action: 'closed',
        pullRequest: {
          ...pr('closed', repo),
          merged: true,
          mergedBy: bob,
          mergedAt: '2026-12-01T09:00:00Z',
          mergeCommitSha: sha('d'),
        },
      }),
      repo.owner,
    )
    add(
      `${o} pull_request closed unmerged`,
      'pull_request',
      pullRequestPayload({ ...base, action: 'closed', pullRequest: pr('closed', repo) }),
      repo.owner,
    )
    const app = { urls, installation: inst, sender: alice }
    add(
      `${o} installation created`,
      'installation',
      installationPayload({ ...app, action: 'created', repositories: [repo], requester: bob }),
      repo.owner,
    )
    add(
      `${o} installation created, no requester`,
      'installation',
      installationPayload({ ...app, action: 'created', repositories: [repo] }),
      repo.owner,
    )
    for (const action of ['deleted', 'unsuspend', 'new_permissions_accepted'] as const)
      add(
        `${o} installation ${action}`,
        'installation',
        installationPayload({ ...app, action, repositories: [repo] }),
        repo.owner,
      )
    add(
      `${o} installation suspend`,
      'installation',
      installationPayload({
        ...app,
        installation: { ...inst, suspendedAt: '2026-12-01T10:00:00Z', suspendedBy: alice },
        action: 'suspend',
        repositories: [repo],
      }),
      repo.owner,
    )
    add(
      `${o} installation_repositories added`,
      'installation_repositories',
      installationRepositoriesPayload({
        ...app,
        action: 'added',
        added: [repo],
        removed: [],
        requester: bob,
      }),
      repo.owner,
    )
    add(
      `${o} installation_repositories removed`,
      'installation_repositories',
      installationRepositoriesPayload({ ...app, action: 'removed', added: [], removed: [repo] }),
      repo.owner,
    )
  }
  add(
    'ping',
    'ping',
    pingPayload({
      urls,
      appId: 77,
      hookId: 4242,
      events: ['push', 'pull_request'],
      url: 'http://127.0.0.1:3000/webhooks/github',
      hasSecret: true,
      createdAt: '2026-11-01T09:00:00Z',
      sender: alice,
    }),
    alice,
  )
  add(
    'github_app_authorization revoked',
    'github_app_authorization',
    authorizationRevokedPayload({ urls, sender: alice }),
    alice,
  )
  return out
}
