/**
 * @module sandbox/bitbucket/payloads
 * `repo:push` and `pullrequest:*` payloads shaped as Bitbucket Cloud sends them today: the current
 * samples in test/fixtures/bitbucket (assembled from Bitbucket's event-payload reference and the
 * key sets of recorded deliveries; their README names the sources) are compared with these key by
 * key. Webhook objects differ from the REST answers of render.ts: embedded accounts carry no
 * `created_on`, pull requests embed a short repository, commits carry `summary`, `rendered` and
 * `properties`.
 */
import { commitInfo, commitsBetween, type CommitData } from '../core/git.js'
import * as render from './render.js'
import type { SandboxState, SbPullRequest, SbRepository, SbUser, SbWorkspace } from './state.js'

/** Bitbucket lists at most 5 commits per change and marks the rest truncated. */
const COMMITS_PER_CHANGE = 5

export async function pushPayload(
  state: SandboxState,
  repo: SbRepository,
  actor: string | undefined,
  before: Map<string, string>,
  after: Map<string, string>,
  urls: render.Urls,
) {
  const dir = state.repoDir(repo.workspace, repo.slug)
  const full = `${repo.workspace}/${repo.slug}`
  const users = state.data.users
  const w = state.workspace(repo.workspace)!
  const refPayload = async (ref: string, id: string) => {
    const c = await commitInfo(dir, id)
    const isTag = ref.startsWith('refs/tags/')
    const name = ref.replace(/^refs\/(heads|tags)\//, '')
    return {
      name,
      target: c ? hookCommit(c, full, urls, users, false) : { type: 'commit', hash: id },
      links: {
        self: {
          href: `${urls.api}/repositories/${full}/refs/${isTag ? 'tags' : 'branches'}/${encodeURIComponent(name)}`,
        },
        commits: { href: `${urls.api}/repositories/${full}/commits/${encodeURIComponent(name)}` },
        html: {
          href: `${urls.web}/${full}/${isTag ? 'commits/tag' : 'branch'}/${encodeURIComponent(name)}`,
        },
      },
      type: isTag ? 'tag' : 'branch',
      // Branches carry the merge strategies the repository allows (tags do not).
      ...(isTag
        ? {}
        : {
            merge_strategies: ['merge_commit', 'squash', 'fast_forward'],
            default_merge_strategy: 'merge_commit',
          }),
    }
  }
  const changes = []
  for (const ref of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(ref)
    const now = after.get(ref)
    if (old === now) continue
    const commits = now ? await commitsBetween(dir, old, now, COMMITS_PER_CHANGE + 1) : []
    const name = ref.replace(/^refs\/(heads|tags)\//, '')
    changes.push({
      old: old ? await refPayload(ref, old) : null,
      new: now ? await refPayload(ref, now) : null,
      truncated: commits.length > COMMITS_PER_CHANGE,
      created: !old,
      forced: !!(old && now && !(await isAncestor(dir, old, now))),
      closed: !now,
      links: {
        commits: {
          href: `${urls.api}/repositories/${full}/commits?include=${now ?? ''}${old ? `&exclude=${old}` : ''}`,
        },
        // A moved ref is compared with where it was; a new one links to itself.
        ...(old && now
          ? {
              diff: { href: `${urls.api}/repositories/${full}/diff/${now}..${old}` },
              html: { href: `${urls.web}/${full}/branches/compare/${now}..${old}` },
            }
          : {
              html: {
                href: `${urls.web}/${full}/${ref.startsWith('refs/tags/') ? 'commits/tag' : 'branch'}/${encodeURIComponent(name)}`,
              },
            }),
      },
      commits: commits
        .slice(0, COMMITS_PER_CHANGE)
        .map((c) => hookCommit(c, full, urls, users, true)),
    })
  }
  return {
    push: { changes },
    repository: hookRepository(repo, w, urls),
    actor: actorOf(state, actor, urls),
  }
}

/**
 * A commit in a push payload: the REST commit with `summary`, an empty `rendered` and
 * `properties`. Listed commits (`changes[].commits`) carry the full link set (`patch` not for a
 * merge commit); a ref's `target` only `self` and `html`. An author Bitbucket cannot map to an
 * account has `raw` alone.
 */
function hookCommit(
  c: CommitData,
  full: string,
  urls: render.Urls,
  users: SbUser[],
  listed: boolean,
) {
  const r = render.commit(c, full, urls, users)
  const api = `${urls.api}/repositories/${full}`
  return {
    type: 'commit',
    hash: r.hash,
    date: r.date,
    author: r.author,
    message: r.message,
    summary: render.renderedText(r.message),
    links: listed
      ? {
          self: r.links.self,
          html: r.links.html,
          diff: r.links.diff,
          approve: { href: `${api}/commit/${c.id}/approve` },
          comments: { href: `${api}/commit/${c.id}/comments` },
          statuses: { href: `${api}/commit/${c.id}/statuses` },
          ...(c.parents.length < 2 ? { patch: { href: `${api}/patch/${c.id}` } } : {}),
        }
      : { self: r.links.self, html: r.links.html },
    parents: r.parents,
    rendered: {},
    properties: {},
  }
}

async function isAncestor(dir: string, a: string, b: string): Promise<boolean> {
  const { git } = await import('../core/git.js')
  try {
    await git(dir, ['merge-base', '--is-ancestor', a, b])
    return true
  } catch {
    return false
  }
}

/** The event's user: an account as Bitbucket embeds it (no `created_on`). */
export function actorOf(state: SandboxState, username: string | undefined, urls: render.Urls) {
  const u = username ? state.user(username) : undefined
  if (u) return render.accountRef(u, urls)
  return {
    type: 'app_user',
    display_name: 'Workspace access token',
    uuid: '{00000000-0000-0000-0000-000000000000}',
  }
}

/**
 * The payload's top-level `repository`: owner, workspace (with its links), project, website.
 * `parent` appears only on a fork (the sandbox has none); pull requests embed the shorter
 * `prRepository`.
 */
export function hookRepository(repo: SbRepository, w: SbWorkspace, urls: render.Urls) {
  const full = `${repo.workspace}/${repo.slug}`
  return {
    type: 'repository',
    full_name: full,
    links: {
      self: { href: `${urls.api}/repositories/${full}` },
      html: { href: `${urls.web}/${full}` },
      avatar: { href: `${urls.web}/${full}/avatar/` },
    },
    name: repo.slug,
    scm: 'git',
    website: '',
    owner: {
      display_name: w.name,
      links: {
        self: { href: `${urls.api}/workspaces/${encodeURIComponent(w.uuid)}` },
        avatar: { href: `${urls.web}/account/${w.slug}/avatar/` },
        html: { href: `${urls.web}/${encodeURIComponent(w.uuid)}/` },
      },
      type: 'team',
      uuid: w.uuid,
      username: w.slug,
    },
    workspace: {
      ...render.workspaceBase(w, urls),
      links: {
        avatar: render.link(`${urls.web}/workspaces/${w.slug}/avatar/`),
        html: render.link(`${urls.web}/${w.slug}/`),
        self: render.link(`${urls.api}/workspaces/${w.slug}`),
      },
    },
    is_private: repo.isPrivate,
    project: render.project(w, urls, repo.project),
    uuid: repo.uuid,
  }
}

/** A `pullrequest:*` payload; `closedBy` is who merged or declined it. */
export function pullRequestPayload(
  state: SandboxState,
  repo: SbRepository,
  p: SbPullRequest,
  actor: string | undefined,
  sourceHash: string,
  destinationHash: string,
  urls: render.Urls,
) {
  const w = state.workspace(repo.workspace)!
  const closer = p.closedBy ? state.user(p.closedBy) : undefined
  return {
    repository: hookRepository(repo, w, urls),
    actor: actorOf(state, actor, urls),
    pullrequest: hookPullRequest(
      p,
      prRepository(repo, urls),
      sourceHash,
      destinationHash,
      actorOf(state, p.author, urls),
      closer ? render.accountRef(closer, urls) : null,
      urls,
    ),
  }
}

/** A repository as Bitbucket embeds it in pull requests (`source`/`destination`). */
function prRepository(r: SbRepository, urls: render.Urls) {
  const full = `${r.workspace}/${r.slug}`
  return {
    type: 'repository',
    full_name: full,
    links: {
      self: render.link(`${urls.api}/repositories/${full}`),
      html: render.link(`${urls.web}/${full}`),
      avatar: render.link(`${urls.web}/${full}/avatar/`),
    },
    name: r.slug,
    uuid: r.uuid,
  }
}

/** A commit named by an (abbreviated) hash, as pull requests carry them. */
function commitRef(hash: string, full: string, urls: render.Urls) {
  return {
    type: 'commit',
    hash,
    links: {
      self: render.link(`${urls.api}/repositories/${full}/commit/${hash}`),
      html: render.link(`${urls.web}/${full}/commits/${hash}`),
    },
  }
}

/**
 * The `pullrequest` of a `pullrequest:*` payload: `merge_commit` and `closed_by` present as
 * `null` until it is merged or closed, commit hashes abbreviated to 12 characters, `rendered`,
 * `summary` and the full link set. (The REST answer, `render.pullRequest`, follows the OpenAPI
 * description, which is narrower than what Bitbucket delivers.)
 */
function hookPullRequest(
  p: SbPullRequest,
  repo: ReturnType<typeof prRepository>,
  sourceHash: string,
  destinationHash: string,
  author:
    ReturnType<typeof render.accountRef> | { type: string; display_name: string; uuid: string },
  closedBy: ReturnType<typeof render.accountRef> | null,
  urls: render.Urls,
) {
  const full = `${p.workspace}/${p.slug}`
  const api = `${urls.api}/repositories/${full}/pullrequests/${p.id}`
  const src = sourceHash.slice(0, 12)
  const dst = destinationHash.slice(0, 12)
  const compare = `${full}:${src}%0D${dst}?from_pullrequest_id=${p.id}&topic=true`
  return {
    comment_count: 0,
    task_count: 0,
    type: 'pullrequest',
    id: p.id,
    title: p.title,
    description: p.description,
    rendered: {
      title: render.renderedText(p.title),
      description: render.renderedText(p.description),
    },
    state: p.state,
    merge_commit: p.mergeCommit ? commitRef(p.mergeCommit.slice(0, 12), full, urls) : null,
    close_source_branch: false,
    closed_by: closedBy,
    author,
    reason: '',
    created_on: p.createdOn,
    updated_on: p.updatedOn,
    destination: {
      branch: { name: p.destinationBranch },
      commit: commitRef(dst, full, urls),
      repository: repo,
    },
    source: {
      branch: { name: p.sourceBranch },
      commit: commitRef(src, full, urls),
      repository: repo,
    },
    reviewers: [],
    participants: [],
    links: {
      self: render.link(api),
      html: render.link(`${urls.web}/${full}/pull-requests/${p.id}`),
      commits: render.link(`${api}/commits`),
      approve: render.link(`${api}/approve`),
      'request-changes': render.link(`${api}/request-changes`),
      diff: render.link(`${urls.api}/repositories/${full}/diff/${compare}`),
      diffstat: render.link(`${urls.api}/repositories/${full}/diffstat/${compare}`),
      comments: render.link(`${api}/comments`),
      activity: render.link(`${api}/activity`),
      merge: render.link(`${api}/merge`),
      decline: render.link(`${api}/decline`),
      statuses: render.link(`${api}/statuses`),
    },
    summary: render.renderedText(p.description),
  }
}
