/**
 * @module sandbox/github/payload-input
 * The sandbox's state as payloads.ts takes it: accounts, repositories (with their default
 * branch), installations, commits read from Git (with the files each added, removed or
 * modified) and pull requests; then one function per event the sandbox sends, building its body
 * with payloads.ts (push, create, delete, pull_request, installation, installation_repositories,
 * ping).
 */
import { git } from '../core/git.js'
import type { Gh } from './context.js'
import { changes, headBranch, logOf, type GitCommit } from './gitdata.js'
import * as hook from './payloads.js'
import type { PullHeads } from './render-git.js'
import type { GhApp, GhInstallation, GhPull, GhRepo } from './state.js'

const ZERO = '0'.repeat(40)

export function account(gh: Gh, login: string): hook.HookAccount {
  const a = gh.state.account(login)
  if (!a) return { login, id: 0, type: 'User' }
  return a.type === 'User'
    ? { login: a.user.username, id: a.user.id, type: 'User', email: a.user.email }
    : { login: a.org.login, id: a.org.id, type: 'Organization', description: a.org.name }
}

export async function repository(gh: Gh, r: GhRepo): Promise<hook.HookRepository> {
  return {
    id: r.id,
    name: r.name,
    owner: account(gh, r.owner),
    private: r.private,
    defaultBranch: await headBranch(gh.state.repoDir(r.owner, r.name)),
    description: r.description || null,
    createdAt: r.createdAt,
    updatedAt: r.pushedAt,
    pushedAt: r.pushedAt,
  }
}

export function installation(gh: Gh, i: GhInstallation): hook.HookInstallation {
  const app = gh.state.app(i.appId)!
  return {
    id: i.id,
    appId: i.appId,
    appSlug: app.slug,
    clientId: app.clientId,
    account: account(gh, i.account),
    repositorySelection: i.repositorySelection,
    permissions: i.permissions,
    events: i.events,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    suspendedAt: i.suspendedAt,
    suspendedBy: i.suspendedBy ? account(gh, i.suspendedBy) : null,
  }
}

function person(gh: Gh, name: string, email: string): hook.HookPerson {
  const u = gh.state.data.users.find((x) => x.email.toLowerCase() === email.toLowerCase())
  return u ? { name, email, username: u.username } : { name, email }
}

async function hookCommit(gh: Gh, dir: string, c: GitCommit): Promise<hook.HookCommit> {
  const files = await changes(dir, c.sha)
  return {
    id: c.sha,
    treeId: c.tree,
    message: c.message,
    timestamp: c.authorDate,
    author: person(gh, c.authorName, c.authorEmail),
    committer: person(gh, c.committerName, c.committerEmail),
    added: files.filter((f) => f.status === 'added').map((f) => f.filename),
    removed: files.filter((f) => f.status === 'removed').map((f) => f.filename),
    modified: files
      .filter((f) => f.status !== 'added' && f.status !== 'removed')
      .map((f) => f.filename),
  }
}

async function isAncestor(dir: string, a: string, b: string): Promise<boolean> {
  try {
    await git(dir, ['merge-base', '--is-ancestor', a, b])
    return true
  } catch {
    return false
  }
}

export async function pushPayload(
  gh: Gh,
  r: GhRepo,
  i: GhInstallation,
  ref: string,
  before: string,
  after: string,
  pusher: string | undefined,
) {
  const dir = gh.state.repoDir(r.owner, r.name)
  const deleted = after === ZERO
  const created = before === ZERO
  // A new ref lists the commits no other ref has; a moved one those since `before`.
  let list: GitCommit[] = []
  if (created && !deleted) {
    const others = (
      await git(dir, [
        'for-each-ref',
        '--format=%(refname) %(objectname)',
        'refs/heads',
        'refs/tags',
      ])
    )
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([name, sha]) => name && sha && name !== ref)
      .map(([, sha]) => sha!)
    list = await logOfNot(dir, after, others)
  } else if (!deleted) list = await logOf(dir, `${before}..${after}`, 0, 2048, true)
  const commits = []
  for (const c of list) commits.push(await hookCommit(gh, dir, c))
  const sender = account(gh, pusher ?? r.owner)
  const input: hook.PushInput = {
    urls: gh.urls,
    repository: await repository(gh, r),
    installation: { id: i.id },
    sender,
    pusher: { name: sender.login, email: sender.email ?? null },
    ref,
    before,
    after,
    commits,
    forced: !created && !deleted && !(await isAncestor(dir, before, after)),
  }
  if (!deleted && commits.length === 0) {
    const [head] = await logOf(dir, after, 0, 1)
    if (head) input.headCommit = await hookCommit(gh, dir, head)
  }
  return hook.pushPayload(input)
}

async function logOfNot(dir: string, tip: string, others: string[]): Promise<GitCommit[]> {
  const ids = (
    await git(dir, ['rev-list', '--reverse', '--max-count=2048', tip, '--not', ...others, '--'])
  )
    .split('\n')
    .filter(Boolean)
  const out: GitCommit[] = []
  for (const id of ids) out.push(...(await logOf(dir, id, 0, 1)))
  return out
}

/** `create` or `delete` for a ref made or removed by a push. */
export async function refEventPayload(
  gh: Gh,
  r: GhRepo,
  i: GhInstallation,
  ref: string,
  made: boolean,
  sender: string | undefined,
) {
  const input: hook.RefEventInput = {
    urls: gh.urls,
    repository: await repository(gh, r),
    installation: { id: i.id },
    sender: account(gh, sender ?? r.owner),
    ref: ref.replace(/^refs\/(heads|tags)\//, ''),
    refType: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
  }
  return made ? hook.createPayload(input) : hook.deletePayload(input)
}

export async function pullRequestPayload(
  gh: Gh,
  action: string,
  r: GhRepo,
  p: GhPull,
  heads: PullHeads,
  i: GhInstallation,
  sender: string,
  sync?: { before: string; after: string },
) {
  const repo = await repository(gh, r)
  const s = heads.stats
  const pr: hook.HookPullRequest = {
    id: p.id,
    number: p.number,
    title: p.title,
    body: p.body || null,
    user: account(gh, p.user),
    head: { ref: p.head, sha: heads.head, repository: repo },
    base: { ref: p.base, sha: heads.base, repository: repo },
    state: p.state,
    merged: p.merged,
    mergedBy: p.mergedBy ? account(gh, p.mergedBy) : null,
    mergeCommitSha: p.mergeCommitSha,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    closedAt: p.closedAt,
    mergedAt: p.mergedAt,
    ...(s
      ? {
          commits: s.commits,
          additions: s.additions,
          deletions: s.deletions,
          changedFiles: s.changedFiles,
        }
      : {}),
  }
  return hook.pullRequestPayload({
    urls: gh.urls,
    action: action as hook.PullRequestAction,
    pullRequest: pr,
    repository: repo,
    installation: { id: i.id },
    sender: account(gh, sender),
    ...(sync ?? {}),
  })
}

export async function installationPayload(
  gh: Gh,
  action: string,
  i: GhInstallation,
  sender: string,
  reached: GhRepo[] = gh.state.installationRepos(i),
) {
  const repos = []
  for (const r of reached) repos.push(await repository(gh, r))
  return hook.installationPayload({
    urls: gh.urls,
    action: action as hook.InstallationAction,
    installation: installation(gh, i),
    repositories: repos,
    sender: account(gh, sender),
    requester: null,
  })
}

export async function installationRepositoriesPayload(
  gh: Gh,
  action: 'added' | 'removed',
  i: GhInstallation,
  added: GhRepo[],
  removed: GhRepo[],
  sender: string,
) {
  const a = []
  for (const r of added) a.push(await repository(gh, r))
  const d = []
  for (const r of removed) d.push(await repository(gh, r))
  return hook.installationRepositoriesPayload({
    urls: gh.urls,
    action,
    installation: installation(gh, i),
    added: a,
    removed: d,
    sender: account(gh, sender),
    requester: null,
  })
}

export function pingPayload(gh: Gh, a: GhApp) {
  return hook.pingPayload({
    urls: gh.urls,
    appId: a.id,
    hookId: a.hookId,
    events: a.events,
    url: a.webhookUrl ?? '',
    hasSecret: a.webhookSecret !== null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    sender: account(gh, a.owner),
  })
}
