/**
 * @module sandbox/github/payloads-push
 * `push`, `create` and `delete` payloads (see payloads.ts for the contract).
 */
import { context, pushRepositoryObject, repositoryObject, userObject } from './payloads-objects.js'
import type { HookCommit, HookUrls, PushInput, RefEventInput } from './payloads-types.js'

const ZERO = /^0{40}$/

function commitObject(urls: HookUrls, full: string, c: HookCommit) {
  const person = (p: HookCommit['author']) => ({
    name: p.name,
    email: p.email,
    ...(p.username ? { username: p.username } : {}),
  })
  return {
    id: c.id,
    tree_id: c.treeId,
    distinct: c.distinct ?? true,
    message: c.message,
    timestamp: c.timestamp,
    url: `${urls.web}/${full}/commit/${c.id}`,
    author: person(c.author),
    committer: person(c.committer ?? c.author),
    added: c.added,
    removed: c.removed,
    modified: c.modified,
  }
}

/** `push`: a branch or tag created, moved (fast-forward or forced) or deleted. */
export function pushPayload(p: PushInput) {
  const { urls, repository: repo } = p
  const full = `${repo.owner.login}/${repo.name}`
  const created = ZERO.test(p.before)
  const deleted = ZERO.test(p.after)
  const name = p.ref.replace(/^refs\/(heads|tags)\//, '')
  const compare = created
    ? `${urls.web}/${full}/compare/${encodeURIComponent(name)}`
    : `${urls.web}/${full}/compare/${p.before.slice(0, 12)}...${p.after.slice(0, 12)}`
  const head = deleted ? null : p.headCommit !== undefined ? p.headCommit : p.commits.at(-1)
  return {
    ref: p.ref,
    before: p.before,
    after: p.after,
    repository: pushRepositoryObject(urls, repo),
    pusher: p.pusher ?? { name: p.sender.login, email: p.sender.email ?? null },
    ...context(urls, repo, p.installation),
    sender: userObject(urls, p.sender),
    created,
    deleted,
    forced: p.forced ?? false,
    base_ref: p.baseRef ?? null,
    compare,
    commits: deleted ? [] : p.commits.map((c) => commitObject(urls, full, c)),
    head_commit: head ? commitObject(urls, full, head) : null,
  }
}

/** `create`: a branch or tag was created (sent beside the `push` with `created: true`). */
export function createPayload(p: RefEventInput) {
  return {
    ref: p.ref,
    ref_type: p.refType,
    master_branch: p.repository.defaultBranch,
    description: p.repository.description ?? null,
    pusher_type: 'user',
    repository: repositoryObject(p.urls, p.repository),
    ...context(p.urls, p.repository, p.installation),
    sender: userObject(p.urls, p.sender),
  }
}

/** `delete`: a branch or tag was deleted (sent beside the `push` with `deleted: true`). */
export function deletePayload(p: RefEventInput) {
  return {
    ref: p.ref,
    ref_type: p.refType,
    pusher_type: 'user',
    repository: repositoryObject(p.urls, p.repository),
    ...context(p.urls, p.repository, p.installation),
    sender: userObject(p.urls, p.sender),
  }
}
