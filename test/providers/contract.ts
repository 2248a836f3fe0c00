/**
 * The provider adapter contract (STYLE §5.6): every adapter runs these cases against a live
 * stand-in of its provider. A fixture supplies the adapter, credentials for one installation
 * target, a repository with two known commits, and ways to push and to break the credential.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ProviderAuthFailed,
  ProviderNotFound,
  WebhookRejected,
} from '../../src/providers/errors.js'
import type {
  GitProvider,
  ProviderCredentials,
  PushEvent,
  RawWebhook,
} from '../../src/providers/provider.js'

const run = promisify(execFile)

export interface ContractFixture {
  provider: GitProvider
  /** A credential that reaches `target` (and may be refreshed). */
  credentials: ProviderCredentials
  target: string
  /** `target/<repo>` with `second` on the default branch, whose parent is `first`. */
  repository: string
  commits: { first: string; second: string }
  /** What `second` changed against `first`. */
  changes: { path: string; status: string }[]
  /** A repository of another account the credential must not be confused with. */
  foreignRepository: string
  /** Pushes a commit to `branch` of `repository` changing `files`; returns its id. */
  push(branch: string, files: Record<string, string>): Promise<string>
  /** Makes every page of listings hold `n` items (to exercise pagination), or undoes it. */
  setPageSize(n: number | null): Promise<void>
  /** Makes the next `count` API calls fail with `status`. */
  failNext(count: number, status: number): Promise<void>
  /** Revokes the credential at the provider. */
  revoke(): Promise<void>
  /** Creates one more repository in `target` (for pagination). */
  addRepository(name: string): Promise<void>
  /**
   * For providers whose app has one webhook for every installation (descriptor `webhooks:
   * 'app'`): the app's webhook secret and the deliveries its webhook URL received so far.
   */
  appWebhook?: { secret: string; received(): RawWebhook[] }
  /** How a commit's author reads (default `Name <email>`, as Bitbucket gives it). */
  author?: RegExp
}

/** What `git clone` needs: minted over the network when the adapter can (`gitCredentials`). */
async function gitAccess(f: ContractFixture, repository: string) {
  return f.provider.gitCredentials
    ? f.provider.gitCredentials(f.credentials, repository)
    : f.provider.cloneCredentials(f.credentials, repository)
}

export function runProviderContract(
  name: string,
  setup: () => Promise<ContractFixture & { stop(): Promise<void> }>,
): void {
  describe(`provider contract: ${name}`, () => {
    let f: ContractFixture & { stop(): Promise<void> }
    beforeAll(async () => {
      f = await setup()
    })
    afterAll(async () => {
      await f?.stop()
    })

    it('lists the installation targets the credential can reach', async () => {
      const t = await f.provider.verifyTarget(f.credentials, f.target)
      expect(t.slug).toBe(f.target)
      expect(t.id).toMatch(/\S/)
    })

    it('refuses an unknown installation target with ProviderNotFound', async () => {
      await expect(f.provider.verifyTarget(f.credentials, 'no-such-target')).rejects.toBeInstanceOf(
        ProviderNotFound,
      )
    })

    it('reads a repository, its branches and a branch head', async () => {
      const r = await f.provider.getRepository(f.credentials, f.repository)
      expect(r.fullName).toBe(f.repository)
      expect(r.owner).toBe(f.target)
      expect(r.defaultBranch).toBe('main')
      expect(r.cloneUrl).toMatch(/^https?:\/\/[^@]+\.git$/)
      const head = await f.provider.getBranch(f.credentials, f.repository, 'main')
      expect(head.commit.id).toBe(f.commits.second)
      expect(head.commit.parents).toEqual([f.commits.first])
      expect(head.commit.message).toMatch(/^Second commit/)
      expect(new Date(head.commit.authorDate).getTime()).toBeGreaterThan(Date.UTC(2020, 0))
      expect(head.commit.author).toMatch(f.author ?? /<.+@.+>/)
      const { items } = await f.provider.listBranches(f.credentials, f.repository)
      expect(items.map((b) => b.name)).toContain('main')
    })

    it('resolves full and abbreviated commit ids, and refuses unknown ones with ProviderNotFound', async () => {
      expect((await f.provider.getCommit(f.credentials, f.repository, f.commits.second)).id).toBe(
        f.commits.second,
      )
      expect(
        (await f.provider.getCommit(f.credentials, f.repository, f.commits.second.slice(0, 12))).id,
      ).toBe(f.commits.second)
      await expect(
        f.provider.getCommit(f.credentials, f.repository, 'deadbeefdeadbeef'),
      ).rejects.toBeInstanceOf(ProviderNotFound)
      await expect(
        f.provider.getBranch(f.credentials, f.repository, 'no-such-branch'),
      ).rejects.toBeInstanceOf(ProviderNotFound)
      await expect(
        f.provider.getRepository(f.credentials, `${f.target}/no-such-repo`),
      ).rejects.toBeInstanceOf(ProviderNotFound)
    })

    it('lists the files a commit changed, against its parent and against an explicit base', async () => {
      const byParent = await f.provider.changedFiles(f.credentials, f.repository, f.commits.second)
      const byBase = await f.provider.changedFiles(
        f.credentials,
        f.repository,
        f.commits.second,
        f.commits.first,
      )
      const norm = (xs: { path: string; status: string }[]) =>
        xs.map((x) => `${x.status} ${x.path}`).sort()
      expect(norm(byParent)).toEqual(norm(f.changes))
      expect(norm(byBase)).toEqual(norm(f.changes))
      // Reversed, additions become removals: the base really is the base.
      const reversed = await f.provider.changedFiles(
        f.credentials,
        f.repository,
        f.commits.first,
        f.commits.second,
      )
      expect(norm(reversed)).toEqual(
        norm(
          f.changes.map((c) => ({
            path: c.path,
            status: c.status === 'added' ? 'removed' : c.status === 'removed' ? 'added' : c.status,
          })),
        ),
      )
    })

    it('follows pagination to the last page', async () => {
      for (let i = 0; i < 3; i++) await f.addRepository(`paged-${i}`)
      await f.setPageSize(2)
      try {
        const names: string[] = []
        let next: string | undefined
        let pages = 0
        do {
          const page = await f.provider.listRepositories(f.credentials, f.target, next)
          names.push(...page.items.map((r) => r.fullName))
          next = page.next
          pages++
        } while (next)
        expect(pages).toBeGreaterThan(2)
        expect(names).toEqual(
          expect.arrayContaining([f.repository, `${f.target}/paged-0`, `${f.target}/paged-2`]),
        )
        expect(new Set(names).size).toBe(names.length)
        // changedFiles follows every page by itself.
        const files = await f.provider.changedFiles(f.credentials, f.repository, f.commits.second)
        expect(files).toHaveLength(f.changes.length)
      } finally {
        await f.setPageSize(null)
      }
    })

    it('downloads a zip archive of the tree at a commit', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'junction-zip-'))
      try {
        const stream = await f.provider.downloadArchive(
          f.credentials,
          f.repository,
          f.commits.first,
        )
        const bytes = Buffer.from(await new Response(stream).arrayBuffer())
        expect(bytes.subarray(0, 2).toString()).toBe('PK')
        writeFileSync(join(dir, 'a.zip'), bytes)
        const { stdout } = await run('unzip', ['-Z1', join(dir, 'a.zip')])
        const files = stdout.split('\n').filter((l) => l && !l.endsWith('/'))
        expect(files.some((p) => p.endsWith('/README.md'))).toBe(true)
        expect(files.some((p) => p.includes('.git/'))).toBe(false)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('hands out clone credentials that real git can clone with', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'junction-clone-'))
      try {
        const c = await gitAccess(f, f.repository)
        const url = new URL(c.url)
        url.username = c.username
        url.password = c.password
        await run('git', ['clone', '-q', url.toString(), join(dir, 'repo')], {
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        })
        expect(readdirSync(join(dir, 'repo')).sort()).toContain('README.md')
        const { stdout } = await run('git', ['-C', join(dir, 'repo'), 'rev-parse', 'HEAD'])
        expect(stdout.trim()).toBe(f.commits.second)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('retries 503 and 429 answers and then succeeds', async () => {
      await f.failNext(2, 503)
      expect((await f.provider.getBranch(f.credentials, f.repository, 'main')).name).toBe('main')
      await f.failNext(1, 429)
      expect((await f.provider.getRepository(f.credentials, f.repository)).fullName).toBe(
        f.repository,
      )
    })

    it("verifies and parses the app webhook's deliveries, and registers nothing per repository", async (ctx) => {
      const app = f.appWebhook
      if (!app) return ctx.skip('per-repository webhooks (the next case)')
      const ref = await f.provider.registerWebhook(f.credentials, f.repository, {
        url: 'http://127.0.0.1:9/never',
        secret: 'unused',
        description: 'contract',
        events: ['push'],
      })
      await f.provider.deleteWebhook(f.credentials, f.repository, ref)
      const before = app.received().length
      const commit = await f.push('feature/app', { 'feature.txt': 'x\n' })
      const pushOf = () =>
        app
          .received()
          .slice(before)
          .map((d) => f.provider.parseWebhook(d, app.secret))
          .find((e): e is PushEvent => e.kind === 'push' && e.changes[0]?.after === commit)
      for (let i = 0; i < 200 && !pushOf(); i++) await new Promise((r) => setTimeout(r, 50))
      const event = pushOf()!
      expect(event.repository.fullName).toBe(f.repository)
      expect(event.installationId).toMatch(/^\d+$/)
      expect(event.changes).toEqual([
        expect.objectContaining({
          kind: 'branch',
          name: 'feature/app',
          after: commit,
          created: true,
        }),
      ])
      const raw = app.received()[before]!
      expect(() => f.provider.parseWebhook(raw, 'another-secret')).toThrow(WebhookRejected)
    })

    it('registers a webhook whose signed deliveries it verifies and parses; deleting twice is fine', async (ctx) => {
      if (f.appWebhook) return ctx.skip('the app has one webhook (the previous case)')
      const received: RawWebhook[] = []
      const markers: RawWebhook[] = []
      const sink = createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const delivery = { headers: req.headers, body: Buffer.concat(chunks) }
          ;(req.url === '/marker' ? markers : received).push(delivery)
          res.writeHead(204).end()
        })
      })
      await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
      try {
        const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`
        const ref = await f.provider.registerWebhook(f.credentials, f.repository, {
          url,
          secret: 'contract-secret',
          description: 'contract',
          events: ['push', 'pull_request'],
        })
        const commit = await f.push('feature/x', { 'feature.txt': 'x\n' })
        for (let i = 0; i < 100 && received.length === 0; i++)
          await new Promise((r) => setTimeout(r, 50))
        expect(received).toHaveLength(1)
        const event = f.provider.parseWebhook(received[0]!, 'contract-secret') as PushEvent
        expect(event.kind).toBe('push')
        expect(event.repository.fullName).toBe(f.repository)
        expect(event.changes).toEqual([
          expect.objectContaining({
            kind: 'branch',
            name: 'feature/x',
            after: commit,
            created: true,
            deleted: false,
          }),
        ])
        expect(() => f.provider.parseWebhook(received[0]!, 'another-secret')).toThrow(
          WebhookRejected,
        )
        await f.provider.deleteWebhook(f.credentials, f.repository, ref)
        await f.provider.deleteWebhook(f.credentials, f.repository, ref)
        // A marker webhook registered after the deletion: once it has the next push, the deleted
        // one would have had it too.
        const marker = await f.provider.registerWebhook(f.credentials, f.repository, {
          url: `${url.replace(/\/hook$/, '/marker')}`,
          secret: 'contract-secret',
          description: 'contract marker',
          events: ['push'],
        })
        await f.push('feature/x', { 'feature.txt': 'y\n' })
        for (let i = 0; i < 100 && markers.length === 0; i++)
          await new Promise((r) => setTimeout(r, 50))
        expect(markers).toHaveLength(1)
        expect(received).toHaveLength(1)
        await f.provider.deleteWebhook(f.credentials, f.repository, marker)
      } finally {
        sink.close()
      }
    })

    it("diffs from the merge base when asked: a pull request's own changes", async () => {
      const topic = await f.push('topic/mb', { 'mb-topic.txt': 't\n' })
      const main = await f.push('main', { 'mb-main.txt': 'm\n' })
      const own = await f.provider.changedFiles(f.credentials, f.repository, topic, main, true)
      expect(own.map((x) => `${x.status} ${x.path}`)).toEqual(['added mb-topic.txt'])
      const twoDot = await f.provider.changedFiles(f.credentials, f.repository, topic, main)
      expect(twoDot.map((x) => `${x.status} ${x.path}`).sort()).toEqual([
        'added mb-topic.txt',
        'removed mb-main.txt',
      ])
    })

    it('refreshes an OAuth credential into a working one', async (ctx) => {
      if (!f.provider.refreshCredentials || f.credentials.kind !== 'oauth')
        return ctx.skip(`not an OAuth credential (${f.credentials.kind}): nothing to refresh`)
      const next = await f.provider.refreshCredentials(f.credentials)
      expect(next.accessToken).not.toBe(f.credentials.accessToken)
      expect(next.expiresAt).toBeGreaterThan(Date.now())
      expect((await f.provider.getRepository(next, f.repository)).fullName).toBe(f.repository)
      f.credentials = next
    })

    it("never reaches a repository outside the credential's reach", async () => {
      const foreign = f.foreignRepository
      const owner = foreign.split('/')[0]!
      const refused = async (what: string, p: Promise<unknown>) => {
        const err = await p.then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(err, what).toBeInstanceOf(ProviderNotFound)
      }
      await refused('verifyTarget', f.provider.verifyTarget(f.credentials, owner))
      await refused('getRepository', f.provider.getRepository(f.credentials, foreign))
      await refused('listBranches', f.provider.listBranches(f.credentials, foreign))
      await refused('getBranch', f.provider.getBranch(f.credentials, foreign, 'main'))
      await refused('getCommit', f.provider.getCommit(f.credentials, foreign, 'main'))
      await refused('changedFiles', f.provider.changedFiles(f.credentials, foreign, 'main'))
      await refused('downloadArchive', f.provider.downloadArchive(f.credentials, foreign, 'main'))
      // Listing the target never shows it, on any page.
      const seen: string[] = []
      let next: string | undefined
      do {
        const page = await f.provider.listRepositories(f.credentials, f.target, next)
        seen.push(...page.items.map((r) => r.fullName))
        next = page.next
      } while (next)
      expect(seen).toContain(f.repository)
      expect(seen).not.toContain(foreign)
      // Nor does Git serve it with the credential (a minted credential is refused outright).
      const c = await gitAccess(f, foreign).catch((e: unknown) => e as Error)
      if (c instanceof Error) expect(c).toBeInstanceOf(ProviderNotFound)
      else {
        const url = new URL(c.url)
        url.username = c.username
        url.password = c.password
        const cloned = await run('git', ['ls-remote', url.toString()], {
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        }).then(
          () => true,
          () => false,
        )
        expect(cloned).toBe(false)
      }
    })

    it('reports a revoked credential as ProviderAuthFailed (and never echoes the token)', async () => {
      await f.revoke()
      const err = await f.provider
        .getRepository(f.credentials, f.repository)
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ProviderAuthFailed)
      // (An installation credential holds no token at rest: `accessToken` is empty.)
      if (f.credentials.accessToken)
        expect((err as Error).message).not.toContain(f.credentials.accessToken)
      if (f.provider.refreshCredentials && f.credentials.refreshToken) {
        const refreshErr = await f.provider
          .refreshCredentials(f.credentials)
          .catch((e: unknown) => e)
        expect(refreshErr).toBeInstanceOf(ProviderAuthFailed)
        expect((refreshErr as Error).message).not.toContain(f.credentials.refreshToken)
      }
    })
  })
}
