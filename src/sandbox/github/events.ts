/**
 * @module sandbox/github/events
 * What sends the app webhooks: a push (over Git or a commit made through the admin API) sends
 * `push` per moved ref and `pull_request` `synchronize` for each open pull request whose head
 * moved; pull request changes send `opened`/`closed`/`reopened`; installation changes send
 * `installation` and `installation_repositories` to the installed app.
 */
import { refs, resolveRef } from '../core/git.js'
import { iso, type Gh } from './context.js'
import { sendToApp, subscribers } from './deliver.js'
import { changes, countRange, mergeBase } from './gitdata.js'
import {
  installationPayload,
  installationRepositoriesPayload,
  pullRequestPayload,
  pushPayload,
  refEventPayload,
} from './payload-input.js'
import type { PullHeads } from './render-git.js'
import type { GhInstallation, GhPull, GhRepo } from './state.js'

const ZERO = '0'.repeat(40)

/** The head and base commits of a pull request, with its stats when `full`. */
export async function pullHeads(gh: Gh, r: GhRepo, p: GhPull, full = false): Promise<PullHeads> {
  const dir = gh.state.repoDir(r.owner, r.name)
  const head = (await resolveRef(dir, `refs/heads/${p.head}`)) ?? p.mergeCommitSha ?? ZERO
  const base = (await resolveRef(dir, `refs/heads/${p.base}`)) ?? ZERO
  const out: PullHeads = { head, base }
  if (full && head !== ZERO && base !== ZERO) {
    const mb = (await mergeBase(dir, base, head)) ?? base
    const files = await changes(dir, head, mb)
    out.stats = {
      commits: await countRange(dir, `${mb}..${head}`),
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      changedFiles: files.length,
    }
  } else if (full) out.stats = { commits: 0, additions: 0, deletions: 0, changedFiles: 0 }
  return out
}

export async function sendPullEvent(
  gh: Gh,
  r: GhRepo,
  p: GhPull,
  action: string,
  sender: string,
  sync?: { before: string; after: string },
): Promise<void> {
  const heads = await pullHeads(gh, r, p, true)
  for (const { installation, app } of subscribers(gh, r, 'pull_request')) {
    const payload = await pullRequestPayload(gh, action, r, p, heads, installation, sender, sync)
    sendToApp(gh, app, { event: 'pull_request', action, installation, repository: r, payload })
  }
}

/** After a push: `push` per moved branch or tag, `synchronize` for moved pull request heads. */
export async function notifyPush(
  gh: Gh,
  r: GhRepo,
  actor: string | undefined,
  before: Map<string, string>,
): Promise<void> {
  const after = await refs(gh.state.repoDir(r.owner, r.name))
  const moved = [...new Set([...before.keys(), ...after.keys()])].filter(
    (ref) => before.get(ref) !== after.get(ref),
  )
  if (moved.length === 0) return
  r.pushedAt = iso(gh.now())
  gh.state.save()
  const targets = subscribers(gh, r, 'push')
  for (const ref of moved)
    for (const { installation, app } of targets) {
      const payload = await pushPayload(
        gh,
        r,
        installation,
        ref,
        before.get(ref) ?? ZERO,
        after.get(ref) ?? ZERO,
        actor,
      )
      sendToApp(gh, app, { event: 'push', installation, repository: r, payload })
    }
  // `create` and `delete` go to apps subscribed to them, for refs made or removed.
  for (const ref of moved) {
    const made = !before.has(ref)
    if (made === !after.has(ref)) continue
    const event = made ? 'create' : 'delete'
    for (const { installation, app } of subscribers(gh, r, event)) {
      const payload = await refEventPayload(gh, r, installation, ref, made, actor)
      sendToApp(gh, app, { event, installation, repository: r, payload })
    }
  }
  const synced = gh.state.data.pulls.filter(
    (p) =>
      p.repoId === r.id &&
      p.state === 'open' &&
      after.has(`refs/heads/${p.head}`) &&
      moved.includes(`refs/heads/${p.head}`),
  )
  for (const p of synced) {
    p.updatedAt = iso(gh.now())
    const ref = `refs/heads/${p.head}`
    await sendPullEvent(gh, r, p, 'synchronize', actor ?? r.owner, {
      before: before.get(ref) ?? ZERO,
      after: after.get(ref)!,
    })
  }
  if (synced.length > 0) gh.state.save()
}

/** Runs `task` after the installation events queued before it (tracked: tests wait for it). */
function enqueue(gh: Gh, task: () => Promise<void>): void {
  const p = gh.chain.then(task).catch((e: unknown) => {
    process.stderr.write(`github sandbox: an event failed: ${(e as Error).stack ?? String(e)}\n`)
  })
  gh.chain = p
  gh.track(p)
}

/**
 * Sends `installation` (in the background, in order). The installation is copied first: an
 * uninstall removes it right after, and the event still describes it.
 */
export function sendInstallationEvent(
  gh: Gh,
  i: GhInstallation,
  action: string,
  sender: string,
): void {
  const app = gh.state.app(i.appId)
  if (!app) return
  const copy = structuredClone(i)
  const repos = gh.state.installationRepos(i)
  enqueue(gh, async () => {
    const payload = await installationPayload(gh, action, copy, sender, repos)
    sendToApp(gh, app, { event: 'installation', action, installation: copy, payload })
  })
}

export function sendInstallationReposEvent(
  gh: Gh,
  i: GhInstallation,
  added: GhRepo[],
  removed: GhRepo[],
  sender: string,
): void {
  const app = gh.state.app(i.appId)
  if (!app) return
  const copy = structuredClone(i)
  for (const [action, list] of [
    ['added', added],
    ['removed', removed],
  ] as const)
    if (list.length > 0)
      enqueue(gh, async () => {
        const payload = await installationRepositoriesPayload(
          gh,
          action,
          copy,
          action === 'added' ? list : [],
          action === 'removed' ? list : [],
          sender,
        )
        sendToApp(gh, app, {
          event: 'installation_repositories',
          action,
          installation: copy,
          payload,
        })
      })
}
