/**
 * @module sandbox/bitbucket/render
 * Bitbucket REST 2.0 objects as the real API shapes them (`type` discriminators, `links`, UUIDs in
 * braces, paginated envelopes); the tests validate them against the published OpenAPI document.
 */
import { escapeHtml } from '../core/consent.js'
import type { CommitData, DiffEntry } from '../core/git.js'
import {
  defaultProject,
  type SbHook,
  type SbPullRequest,
  type SbRepository,
  type SbUser,
  type SbWorkspace,
} from './state.js'

export interface Urls {
  /** Web and Git base, e.g. http://127.0.0.1:7990 */
  web: string
  /** REST base, `${web}/2.0` */
  api: string
}

export const link = (href: string) => ({ href })

/**
 * An account as Bitbucket embeds it in other objects (authors, actors, `closed_by`): no
 * `created_on`, which only the account's own resource (`/user`) carries.
 */
export function accountRef(u: SbUser, urls: Urls) {
  return {
    type: 'user',
    uuid: u.uuid,
    account_id: u.accountId,
    nickname: u.username,
    display_name: u.displayName,
    links: {
      self: link(`${urls.api}/users/${encodeURIComponent(u.uuid)}`),
      html: link(`${urls.web}/${encodeURIComponent(u.uuid)}/`),
      avatar: link(`${urls.web}/account/${u.username}/avatar/`),
    },
  }
}

/** The account's own resource (`GET /user`). */
export function account(u: SbUser, urls: Urls) {
  return { ...accountRef(u, urls), created_on: u.createdOn }
}

/** A `rendered` text as Bitbucket gives titles, descriptions and commit summaries. */
export function renderedText(raw: string) {
  const html =
    raw === '' ? '' : `<p>${escapeHtml(raw.trimEnd()).replace(/\n\n+/g, '</p>\n<p>')}</p>`
  return { type: 'rendered', raw, markup: 'markdown', html }
}

/**
 * The project a repository belongs to (`p`: its own, by default the workspace's default one).
 * Every workspace repository on Bitbucket Cloud is in a project.
 */
export function project(
  w: SbWorkspace,
  urls: Urls,
  p: { key: string; uuid: string; name: string } = defaultProject(w),
) {
  const { key, uuid } = p
  return {
    type: 'project',
    key,
    uuid,
    name: p.name,
    links: {
      self: link(`${urls.api}/workspaces/${w.slug}/projects/${key}`),
      html: link(`${urls.web}/${w.slug}/workspace/projects/${key}`),
      avatar: link(`${urls.web}/account/user/${w.slug}/projects/${key}/avatar/32`),
    },
  }
}

/** A project as the REST API embeds and answers it: its `links` are `html` and `avatar` only. */
export function projectRest(
  w: SbWorkspace,
  urls: Urls,
  p?: { key: string; uuid: string; name: string },
) {
  const full = project(w, urls, p)
  return { ...full, links: { html: full.links.html, avatar: full.links.avatar } }
}

export function workspaceBase(w: SbWorkspace, urls: Urls) {
  return {
    type: 'workspace',
    uuid: w.uuid,
    slug: w.slug,
    name: w.name,
    links: {
      self: link(`${urls.api}/workspaces/${w.slug}`),
      avatar: link(`${urls.web}/workspaces/${w.slug}/avatar/`),
    },
  }
}

export function workspace(w: SbWorkspace, urls: Urls) {
  const base = workspaceBase(w, urls)
  return {
    ...base,
    links: {
      ...base.links,
      html: link(`${urls.web}/${w.slug}/`),
      repositories: link(`${urls.api}/repositories/${w.slug}`),
    },
    is_private: true,
    created_on: w.createdOn,
  }
}

export function repository(
  r: SbRepository,
  w: SbWorkspace,
  mainbranch: string | null,
  urls: Urls,
  proj?: { key: string; uuid: string; name: string },
) {
  const full = `${r.workspace}/${r.slug}`
  return {
    type: 'repository',
    uuid: r.uuid,
    full_name: full,
    name: r.slug,
    slug: r.slug,
    is_private: r.isPrivate,
    scm: 'git',
    description: r.description,
    created_on: r.createdOn,
    updated_on: r.createdOn,
    size: 0,
    language: '',
    has_issues: false,
    has_wiki: false,
    fork_policy: 'allow_forks',
    owner: {
      type: 'team',
      uuid: w.uuid,
      display_name: w.name,
      username: w.slug,
      links: { avatar: link(`${urls.web}/workspaces/${w.slug}/avatar/`) },
    },
    workspace: workspaceBase(w, urls),
    project: projectRest(w, urls, proj),
    ...(mainbranch ? { mainbranch: { type: 'branch', name: mainbranch } } : {}),
    links: {
      self: link(`${urls.api}/repositories/${full}`),
      html: link(`${urls.web}/${full}`),
      avatar: link(`${urls.web}/${full}/avatar/`),
      commits: link(`${urls.api}/repositories/${full}/commits`),
      hooks: link(`${urls.api}/repositories/${full}/hooks`),
      clone: [{ name: 'https', href: `${urls.web}/${full}.git` }],
    },
  }
}

/** A commit; `users` maps author e-mails to sandbox accounts (Bitbucket links known authors). */
export function commit(c: CommitData, full: string, urls: Urls, users: SbUser[]) {
  const user = users.find((u) => u.email === c.authorEmail)
  return {
    type: 'commit',
    hash: c.id,
    date: new Date(c.date).toISOString().replace('.000Z', '+00:00'),
    message: c.message,
    author: {
      type: 'author',
      raw: `${c.authorName} <${c.authorEmail}>`,
      ...(user ? { user: accountRef(user, urls) } : {}),
    },
    parents: c.parents.map((p) => ({
      type: 'commit',
      hash: p,
      links: {
        self: link(`${urls.api}/repositories/${full}/commit/${p}`),
        html: link(`${urls.web}/${full}/commits/${p}`),
      },
    })),
    links: {
      self: link(`${urls.api}/repositories/${full}/commit/${c.id}`),
      html: link(`${urls.web}/${full}/commits/${c.id}`),
      diff: link(`${urls.api}/repositories/${full}/diff/${c.id}`),
    },
  }
}

export function branch(name: string, target: ReturnType<typeof commit>, full: string, urls: Urls) {
  return {
    type: 'branch',
    name,
    target,
    merge_strategies: ['merge_commit', 'squash', 'fast_forward'],
    default_merge_strategy: 'merge_commit',
    links: {
      self: link(`${urls.api}/repositories/${full}/refs/branches/${encodeURIComponent(name)}`),
      commits: link(`${urls.api}/repositories/${full}/commits/${encodeURIComponent(name)}`),
      html: link(`${urls.web}/${full}/branch/${encodeURIComponent(name)}`),
    },
  }
}

export function diffstat(d: DiffEntry) {
  const file = (path: string) => ({ type: 'commit_file', path, escaped_path: path })
  return {
    type: 'diffstat',
    status: d.status,
    lines_added: d.added,
    lines_removed: d.removed,
    ...(d.oldPath ? { old: file(d.oldPath) } : {}),
    ...(d.newPath ? { new: file(d.newPath) } : {}),
  }
}

export function hook(h: SbHook, repo: ReturnType<typeof repository>) {
  return {
    type: 'webhook_subscription',
    uuid: h.uuid,
    url: h.url,
    description: h.description,
    subject_type: 'repository',
    subject: repo,
    active: h.active,
    created_at: h.createdAt,
    events: h.events,
    secret_set: h.secret !== null,
  }
}

/** A pull request as the REST API answers it (validated against the OpenAPI description). */
export function pullRequest(
  p: SbPullRequest,
  repo: ReturnType<typeof repository>,
  sourceHash: string,
  destinationHash: string,
  author: ReturnType<typeof account> | { type: string; display_name: string; uuid: string },
  urls: Urls,
) {
  const full = `${p.workspace}/${p.slug}`
  return {
    type: 'pullrequest',
    id: p.id,
    title: p.title,
    description: p.description,
    summary: {
      raw: p.description,
      markup: 'markdown',
      html: `<p>${escapeHtml(p.description)}</p>`,
    },
    state: p.state,
    author,
    // Bitbucket abbreviates the commit hashes in pull requests to 12 characters.
    source: {
      branch: { name: p.sourceBranch },
      commit: { hash: sourceHash.slice(0, 12) },
      repository: repo,
    },
    destination: {
      branch: { name: p.destinationBranch },
      commit: { hash: destinationHash.slice(0, 12) },
      repository: repo,
    },
    ...(p.mergeCommit ? { merge_commit: { hash: p.mergeCommit.slice(0, 12) } } : {}),
    comment_count: 0,
    task_count: 0,
    close_source_branch: false,
    reason: '',
    created_on: p.createdOn,
    updated_on: p.updatedOn,
    reviewers: [],
    participants: [],
    links: {
      self: link(`${urls.api}/repositories/${full}/pullrequests/${p.id}`),
      html: link(`${urls.web}/${full}/pull-requests/${p.id}`),
    },
  }
}

export function paginated<T>(values: T[], page: number, pagelen: number, selfUrl: URL) {
  const start = (page - 1) * pagelen
  const slice = values.slice(start, start + pagelen)
  const out: {
    size: number
    page: number
    pagelen: number
    values: T[]
    next?: string
    previous?: string
  } = {
    size: values.length,
    page,
    pagelen,
    values: slice,
  }
  if (start + pagelen < values.length) {
    const next = new URL(selfUrl)
    next.searchParams.set('page', String(page + 1))
    out.next = next.toString()
  }
  if (page > 1) {
    const prev = new URL(selfUrl)
    prev.searchParams.set('page', String(page - 1))
    out.previous = prev.toString()
  }
  return out
}

export function error(message: string, detail?: string) {
  return { type: 'error', error: detail ? { message, detail } : { message } }
}
