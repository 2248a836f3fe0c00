/**
 * @module sandbox/github/payloads-min
 * Webhook payloads of the sandbox GitHub, one function per event (push, pull_request,
 * installation, installation_repositories, ping), with the members GitHub's examples carry at
 * the top level. A stand-in until payloads.ts (full shapes, checked against GitHub's webhook
 * schemas) lands: the server imports these names from one place.
 */
import type { Gh } from './context.js'
import { changes, headBranch, logOf, type GitCommit } from './gitdata.js'
import { installation as installationJson, integration, repository, simpleUser } from './render.js'
import { pull as pullJson, type PullHeads } from './render-git.js'
import type { GhApp, GhInstallation, GhPull, GhRepo } from './state.js'

const ZERO = '0'.repeat(40)

async function repoJson(gh: Gh, r: GhRepo) {
  const branch = await headBranch(gh.state.repoDir(r.owner, r.name))
  return { ...repository(gh, r, branch), stargazers: 0, master_branch: branch }
}

const short = (i: GhInstallation) => ({
  id: i.id,
  node_id: Buffer.from(`I${i.id}`).toString('base64'),
})

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
  const list: GitCommit[] = deleted
    ? []
    : created
      ? await logOf(dir, after, 0, 1)
      : await logOf(dir, `${before}..${after}`, 0, 2048, true)
  const commits = []
  for (const c of list) {
    const files = await changes(dir, c.sha)
    const who = (name: string, email: string) => {
      const u = gh.state.data.users.find((x) => x.email === email)
      return u ? { name, email, username: u.username } : { name, email }
    }
    commits.push({
      id: c.sha,
      tree_id: c.tree,
      distinct: true,
      message: c.message,
      timestamp: c.committerDate,
      url: `${gh.urls.web}/${r.owner}/${r.name}/commit/${c.sha}`,
      author: who(c.authorName, c.authorEmail),
      committer: who(c.committerName, c.committerEmail),
      added: files.filter((f) => f.status === 'added').map((f) => f.filename),
      removed: files.filter((f) => f.status === 'removed').map((f) => f.filename),
      modified: files
        .filter((f) => f.status === 'modified' || f.status === 'renamed')
        .map((f) => f.filename),
    })
  }
  const user = pusher ? gh.state.user(pusher) : undefined
  const sender = user ? user.username : r.owner
  return {
    ref,
    before,
    after,
    created,
    deleted,
    forced: false,
    base_ref: null,
    compare: `${gh.urls.web}/${r.owner}/${r.name}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits,
    head_commit: commits.at(-1) ?? null,
    repository: await repoJson(gh, r),
    pusher: user ? { name: user.username, email: user.email } : { name: r.owner, email: null },
    sender: simpleUser(gh, sender),
    installation: short(i),
  }
}

export async function pullRequestPayload(
  gh: Gh,
  action: string,
  r: GhRepo,
  p: GhPull,
  heads: PullHeads,
  i: GhInstallation,
  sender: string,
) {
  const repo = await repoJson(gh, r)
  return {
    action,
    number: p.number,
    pull_request: pullJson(gh, r, p, heads, repo.default_branch),
    repository: repo,
    sender: simpleUser(gh, sender),
    installation: short(i),
  }
}

const repoShort = (r: GhRepo) => ({
  id: r.id,
  node_id: Buffer.from(`R${r.id}`).toString('base64'),
  name: r.name,
  full_name: `${r.owner}/${r.name}`,
  private: r.private,
})

export function installationPayload(gh: Gh, action: string, i: GhInstallation, sender: string) {
  return {
    action,
    installation: installationJson(gh, i),
    repositories: gh.state.installationRepos(i).map(repoShort),
    requester: null,
    sender: simpleUser(gh, sender),
  }
}

export function installationRepositoriesPayload(
  gh: Gh,
  action: 'added' | 'removed',
  i: GhInstallation,
  added: GhRepo[],
  removed: GhRepo[],
  sender: string,
) {
  return {
    action,
    installation: installationJson(gh, i),
    repository_selection: i.repositorySelection,
    repositories_added: added.map(repoShort),
    repositories_removed: removed.map(repoShort),
    requester: null,
    sender: simpleUser(gh, sender),
  }
}

export function pingPayload(gh: Gh, a: GhApp) {
  return {
    zen: 'Keep it logically awesome.',
    hook_id: a.hookId,
    hook: {
      type: 'App',
      id: a.hookId,
      name: 'web',
      active: a.webhookActive,
      events: a.events,
      config: { content_type: 'json', insecure_ssl: '0', url: a.webhookUrl ?? '' },
      updated_at: a.updatedAt,
      created_at: a.createdAt,
      app_id: a.id,
    },
    sender: simpleUser(gh, a.owner),
    app: integration(gh, a),
  }
}
