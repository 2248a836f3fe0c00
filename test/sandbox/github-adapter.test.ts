/**
 * Junction's GitHub adapter (src/providers/github) against the sandbox GitHub, in github.com and
 * enterprise modes: the adapter's own methods, unchanged, reach what the sandbox serves —
 * installation checks with the app JWT, narrowed per-use tokens (re-minted after the sandbox
 * moves its clock past their expiry), repositories, branches, commits, changed files (the compare
 * API, and the Git fallback past GitHub's 300-file cap), the zipball through codeload without the
 * token, clone credentials, pull requests, the user authorization, and app webhooks parsed.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GitHubProvider } from '../../src/providers/github/github-provider.js'
import type { ProviderCredentials } from '../../src/providers/provider.js'
import {
  browser,
  field,
  hookReceiver,
  seedGhWorld,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'

const run = promisify(execFile)
const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
}

async function bytes(s: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

for (const enterprise of [false, true]) {
  describe(
    `GitHubProvider against the sandbox GitHub${enterprise ? ' Enterprise Server' : ''}`,
    { timeout: 90_000 },
    () => {
      let sb: GhSandbox
      let world: GhWorld
      let provider: GitHubProvider
      let hooks: Awaited<ReturnType<typeof hookReceiver>>
      let c: ProviderCredentials
      const tmp = mkdtempSync(join(tmpdir(), 'junction-gh-adapter-'))
      beforeAll(async () => {
        hooks = await hookReceiver()
        sb = await startGhSandbox({ enterprise })
        world = await seedGhWorld(sb, { webhookUrl: hooks.url })
        provider = new GitHubProvider({
          type: enterprise ? 'GitHubEnterpriseServer' : 'GitHub',
          endpoints: { webUrl: sb.url, apiUrl: sb.apiUrl },
          app: {
            clientId: world.app.clientId,
            clientSecret: world.app.clientSecret,
            callbackUrl: 'http://127.0.0.1:9/callback',
            appId: String(world.app.id),
            privateKey: world.app.privateKey,
            slug: world.app.slug,
            webhookSecret: 'hook-secret',
          },
        })
        c = {
          kind: 'github-installation',
          installationId: String(world.installationId),
          accessToken: '',
        }
      })
      afterAll(async () => {
        await sb?.stop()
        await hooks?.close()
        rmSync(tmp, { recursive: true, force: true })
      })

      it('verifies the installation and lists its repositories', async () => {
        const target = await provider.verifyInstallation(String(world.installationId))
        expect(target.slug).toBe('acme')
        await expect(provider.verifyInstallation('999999')).rejects.toThrow()
        const repos = await provider.listRepositories(c, 'acme')
        expect(repos.items.map((r) => r.fullName).sort()).toEqual(['acme/app', 'acme/lib'])
        const repo = await provider.getRepository(c, 'acme/app')
        expect(repo).toMatchObject({ fullName: 'acme/app', defaultBranch: 'main' })
        await expect(provider.getRepository(c, 'acme/secret')).rejects.toThrow()
        const install = provider.authorizationUrl('st')
        expect(install.pathname).toBe(
          `/${enterprise ? 'github-apps' : 'apps'}/${world.app.slug}/installations/new`,
        )
        expect((await fetch(install, { redirect: 'manual' })).status).toBe(200)
      })

      it('reads branches, commits and changed files', async () => {
        const branches = await provider.listBranches(c, 'acme/app')
        expect(branches.items.map((b) => b.name).sort()).toEqual(['feature/x', 'main'])
        const feature = await provider.getBranch(c, 'acme/app', 'feature/x')
        expect(feature.name).toBe('feature/x')
        const heads = await provider.branchHeads(c, 'acme/app', ['main', 'gone'])
        expect(heads.heads.get('main')?.id).toBe(world.commits.second)
        expect(heads.heads.has('gone')).toBe(false)
        expect(heads.limitPerHour).toBe(5000)
        const commit = await provider.getCommit(c, 'acme/app', world.commits.second.slice(0, 8))
        expect(commit).toMatchObject({ id: world.commits.second, message: 'Second' })
        const files = await provider.changedFiles(c, 'acme/app', world.commits.second)
        expect(files.map((f) => `${f.status} ${f.path}`).sort()).toEqual([
          'added docs/a.md',
          'modified src/main.sh',
        ])
        const between = await provider.changedFiles(
          c,
          'acme/app',
          feature.commit.id,
          world.commits.first,
        )
        expect(between.map((f) => f.path).sort()).toEqual(['docs/a.md', 'f.txt', 'src/main.sh'])
      })

      it('falls back to Git past the compare cap of 300 files', async () => {
        const files: Record<string, string> = {}
        for (let i = 0; i < 320; i++) files[`many/f${i}.txt`] = `${i}\n`
        const made = await sb.admin<{ sha: string }>('repositories/acme/lib/commits', {
          message: 'Many',
          files,
        })
        const cmp = (await (
          await fetch(`${sb.apiUrl}/repos/acme/lib/commits/${made.sha}`, {
            headers: {
              authorization: `Bearer ${(await provider.gitCredentials(c, 'acme/lib')).password}`,
            },
          })
        ).json()) as { files: unknown[] }
        expect(cmp.files).toHaveLength(300)
        const changed = await provider.changedFiles(c, 'acme/lib', made.sha)
        expect(changed).toHaveLength(320)
      })

      it('downloads the zipball through codeload and clones with x-access-token', async () => {
        const zip = await bytes(await provider.downloadArchive(c, 'acme/app', world.commits.second))
        const file = join(tmp, `a-${enterprise}.zip`)
        writeFileSync(file, zip)
        const { stdout } = await run('unzip', ['-Z1', file])
        expect(stdout.split('\n')).toContain(
          `acme-app-${world.commits.second.slice(0, 7)}/src/main.sh`,
        )
        const flat = await bytes(
          await provider.downloadArchive(c, 'acme/app', world.commits.second, { topFolder: false }),
        )
        writeFileSync(join(tmp, 'flat.zip'), flat)
        expect((await run('unzip', ['-Z1', join(tmp, 'flat.zip')])).stdout.split('\n')).toContain(
          'src/main.sh',
        )
        const cred = await provider.gitCredentials(c, 'acme/app')
        expect(cred.username).toBe('x-access-token')
        const u = new URL(cred.url)
        u.username = cred.username
        u.password = cred.password
        await run('git', ['clone', '-q', u.toString(), join(tmp, `clone-${enterprise}`)], {
          env: gitEnv,
        })
        // The token was narrowed to acme/app: another repository is out of its reach.
        const other = new URL(`${sb.url}/acme/lib.git`)
        other.username = 'x-access-token'
        other.password = cred.password
        await expect(
          run('git', ['clone', '-q', other.toString(), join(tmp, 'x')], { env: gitEnv }),
        ).rejects.toThrow()
      })

      it('re-mints a token after the sandbox clock passes its expiry, and refuses a suspended installation', async () => {
        await provider.getRepository(c, 'acme/app')
        const minted = sb.state.stats.tokensMinted
        await sb.admin('clock', { advanceSeconds: 3700 })
        try {
          expect((await provider.getRepository(c, 'acme/app')).fullName).toBe('acme/app')
          expect(sb.state.stats.tokensMinted).toBe(minted + 1)
        } finally {
          await sb.admin('clock', { advanceSeconds: -3700 })
        }
        await sb.admin(`installations/${world.installationId}/suspend`, {})
        try {
          await expect(provider.verifyInstallation(String(world.installationId))).rejects.toThrow(
            /suspended/,
          )
        } finally {
          await sb.admin(`installations/${world.installationId}/unsuspend`, {})
        }
      })

      it('lists pull requests and parses the app webhooks it receives', async () => {
        const before = hooks.got.length
        await sb.admin('pulls', {
          owner: 'acme',
          repo: 'app',
          title: 'Feature',
          head: 'feature/x',
          user: 'alice',
        })
        await sb.admin('repositories/acme/app/commits', {
          branch: 'feature/x',
          message: 'More',
          files: { 'g.txt': 'g\n' },
        })
        const prs = await provider.listPullRequests(c, 'acme/app')
        expect(prs.items).toHaveLength(1)
        const pr = await provider.getPullRequest(c, 'acme/app', prs.items[0]!.number)
        expect(pr).toMatchObject({ title: 'Feature', state: 'OPEN', sourceBranch: 'feature/x' })
        await hooks.waitFor(before + 3)
        await sb.settled()
        const parsed = hooks.got
          .slice(before)
          .map((d) => provider.parseWebhook({ headers: d.headers, body: d.body }, 'hook-secret'))
        const kinds = parsed.map((p) => p.kind)
        expect(kinds).toContain('push')
        expect(kinds).toContain('pull_request')
        // A forged signature is refused.
        const d = hooks.got.at(-1)!
        expect(() =>
          provider.parseWebhook({ headers: d.headers, body: d.body }, 'wrong-secret'),
        ).toThrow()
      })

      it('exchanges a user authorization code and lists the user’s installations', async () => {
        const go = browser(sb.url)
        const q = `client_id=${world.app.clientId}&state=s`
        const page = await go(`/login/oauth/authorize?${q}`, {
          sign_in: '1',
          login: 'bob',
          password: 'bob-pw',
        })
        const done = await go(`/login/oauth/authorize?${q}`, {
          authorize: '1',
          authenticity_token: field(page.html, 'authenticity_token')!,
        })
        const code = new URL(done.location!).searchParams.get('code')!
        const user = await provider.exchangeCode(code)
        expect(user.accessToken).toMatch(/^ghu_/)
        const targets = await provider.listInstallationTargets(user)
        expect(targets.map((t) => t.slug)).toContain('acme')
        await expect(provider.exchangeCode(code)).rejects.toThrow()
        const refreshed = await provider.refreshCredentials(user)
        expect(refreshed.accessToken).not.toBe(user.accessToken)
      })
    },
  )
}
