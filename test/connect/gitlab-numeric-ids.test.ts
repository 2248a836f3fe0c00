/**
 * A GitLab project named by its numeric id as `FullRepositoryId` on Junction's own operations,
 * against the sandbox GitLab: each operation answers for the project the id names; scope and IAM
 * are decided on the id as given and then on the project's path (a `Deny` on
 * `acme/platform/secret` is not bypassed with its id; an `Allow` must name both the path and the
 * id, so one on the path alone does not allow the id); an id outside the namespace is refused. Bitbucket refuses a numeric id (GitHub's adapter does not take one either).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GitHubProvider } from '../../src/providers/github/github-provider.js'
import { GitLabProvider } from '../../src/providers/gitlab/gitlab-provider.js'
import { expectAwsError } from '../helpers/api.js'
import {
  completeWithToken,
  ext,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import {
  cloneWith,
  completeGl,
  glExt,
  newGlConnection,
  startGlConnect,
  stopGlConnect,
  type GlConnectFixture,
} from '../helpers/gitlab-connect.js'
import { iamClient, policy, userWithPolicy } from '../helpers/iam.js'

for (const engine of testEngines()) {
  describe(`GitLab numeric project ids as FullRepositoryId [${engine}]`, () => {
    let f: GlConnectFixture
    let dir: string
    let arn: string
    const ids: Record<string, string> = {}
    const iam = () => iamClient(f.server.url, f.server.credentials)

    beforeAll(async () => {
      f = await startGlConnect(engine)
      dir = mkdtempSync(join(tmpdir(), 'gl-num-'))
      await f.gl.admin('projects', {
        namespace: 'acme/platform',
        path: 'secret',
        files: { 'secret.txt': 's\n' },
      })
      await f.gl.admin('projects', { namespace: 'acme', path: 'other', files: { o: 'o\n' } })
      for (const p of ['acme/platform/api', 'acme/platform/secret', 'acme/other']) {
        const r = await f.gl.get(`/projects/${encodeURIComponent(p)}`, f.gl.token('alice-api'))
        expect(r.status, p).toBe(200)
        ids[p] = String(((await r.json()) as { id: number }).id)
      }
      arn = await newGlConnection(f)
      const done = await completeGl(f, arn, {
        Workspace: 'acme/platform',
        AccessToken: f.gl.token('alice-api'),
      })
      expect(done.status, done.text).toBe(200)
    }, 60_000)
    afterAll(async () => {
      await stopGlConnect(f)
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('the adapter declares numeric ids; GitHub and Bitbucket adapters do not', () => {
      expect(new GitLabProvider().capabilities.numericRepositoryIds).toBe(true)
      expect(new GitHubProvider().capabilities.numericRepositoryIds).toBeFalsy()
    })

    it('ListBranches, GetBranch, GetCommit, archive links and clone credentials by project id', async () => {
      const id = ids['acme/platform/api']!
      const byPath = await glExt(f, 'GetBranch', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/platform/api',
        BranchName: 'main',
      })
      expect(byPath.status, byPath.text).toBe(200)
      const byId = await glExt(f, 'GetBranch', {
        ConnectionArn: arn,
        FullRepositoryId: id,
        BranchName: 'main',
      })
      expect(byId.status, byId.text).toBe(200)
      expect(byId.json).toEqual(byPath.json)
      const head = String(byId.json['CommitId'])
      expect(head).toMatch(/^[0-9a-f]{40}$/)

      const branches = await glExt(f, 'ListBranches', { ConnectionArn: arn, FullRepositoryId: id })
      expect(branches.status, branches.text).toBe(200)
      expect(branches.text).toContain('main')

      const commit = await glExt(f, 'GetCommit', {
        ConnectionArn: arn,
        FullRepositoryId: id,
        CommitId: head,
      })
      expect(commit.status, commit.text).toBe(200)
      expect(commit.json['CommitId']).toBe(head)

      const cred = await glExt(f, 'GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: id,
      })
      expect(cred.status, cred.text).toBe(200)
      expect(String(cred.json['CloneUrl'])).toContain('acme/platform/api')
      const cloned = await cloneWith(cred, join(dir, 'api'))
      expect(cloned).toBe(head)

      const link = await glExt(f, 'GetSourceArchiveUrl', {
        ConnectionArn: arn,
        FullRepositoryId: id,
        CommitId: cloned,
      })
      expect(link.status, link.text).toBe(200)
      const zip = await fetch(String(link.json['Url']))
      expect(zip.status).toBe(200)
      expect(zip.headers.get('content-disposition') ?? '').toContain('acme-platform-api')
      expect((await zip.arrayBuffer()).byteLength).toBeGreaterThan(0)
    })

    it('refuses an id outside the namespace (acme/other), and an unknown id, as it refuses the path', async () => {
      const outside = await glExt(f, 'GetBranch', {
        ConnectionArn: arn,
        FullRepositoryId: ids['acme/other']!,
        BranchName: 'main',
      })
      expectAwsError(outside, 'AccessDeniedException', 400, /outside it/)
      // The answer does not name the project the id stands for.
      expect(outside.text).not.toContain('acme/other')
      const unknown = await glExt(f, 'ListBranches', {
        ConnectionArn: arn,
        FullRepositoryId: '999999999',
      })
      expect(unknown.status, unknown.text).toBeGreaterThanOrEqual(400)
      expect(unknown.status).toBeLessThan(500)
      for (const bad of ['1'.repeat(21), '-42', '42a'])
        expectAwsError(
          await glExt(f, 'ListBranches', { ConnectionArn: arn, FullRepositoryId: bad }),
          'ValidationException',
          400,
          /FullRepositoryId/,
        )
    })

    it('a Deny on acme/platform/secret is not bypassed with its numeric id', async () => {
      const client = iam()
      const creds = await userWithPolicy(
        client,
        `deny-secret-${engine}`,
        policy(
          { Effect: 'Allow', Action: 'codestar-connections:UseConnection', Resource: arn },
          {
            Effect: 'Deny',
            Action: 'codestar-connections:UseConnection',
            Resource: '*',
            Condition: {
              StringEquals: { 'codestar-connections:FullRepositoryId': 'acme/platform/secret' },
            },
          },
        ),
      )
      client.destroy()
      await new Promise((r) => setTimeout(r, 1100))
      const call = (op: string, repo: string, extra: Record<string, unknown> = {}) =>
        glExt(f, op, { ConnectionArn: arn, FullRepositoryId: repo, ...extra }, creds)
      expectAwsError(
        await call('GetBranch', 'acme/platform/secret', { BranchName: 'main' }),
        'AccessDeniedException',
        400,
        /explicit deny/,
      )
      const secret = ids['acme/platform/secret']!
      for (const [op, extra] of [
        ['GetBranch', { BranchName: 'main' }],
        ['ListBranches', {}],
        ['GetSourceArchiveUrl', { CommitId: 'abcdef12' }],
      ] as const)
        expectAwsError(await call(op, secret, extra), 'AccessDeniedException', 400, /explicit deny/)
      // Another project of the namespace, by id and by path, is allowed.
      expect(
        (await call('GetBranch', ids['acme/platform/api']!, { BranchName: 'main' })).status,
      ).toBe(200)
      expect((await call('GetBranch', 'acme/platform/api', { BranchName: 'main' })).status).toBe(
        200,
      )
    })

    it('an Allow naming acme/platform/api and its id allows the id; one on the path alone does not', async () => {
      const client = iam()
      const allowOn = (repos: string[]) =>
        policy({
          Effect: 'Allow',
          Action: 'codestar-connections:UseConnection',
          Resource: arn,
          Condition: { StringEquals: { 'codestar-connections:FullRepositoryId': repos } },
        })
      const creds = await userWithPolicy(
        client,
        `allow-api-${engine}`,
        allowOn(['acme/platform/api', ids['acme/platform/api']!]),
      )
      const pathOnly = await userWithPolicy(
        client,
        `allow-api-path-${engine}`,
        allowOn(['acme/platform/api']),
      )
      client.destroy()
      await new Promise((r) => setTimeout(r, 1100))
      const branch = (repo: string) =>
        glExt(
          f,
          'GetBranch',
          { ConnectionArn: arn, FullRepositoryId: repo, BranchName: 'main' },
          creds,
        )
      const ok = await branch(ids['acme/platform/api']!)
      expect(ok.status, ok.text).toBe(200)
      // The path alone allows the path, not the id: nothing is read for an id not allowed as given.
      const byPath = (repo: string) =>
        glExt(
          f,
          'GetBranch',
          { ConnectionArn: arn, FullRepositoryId: repo, BranchName: 'main' },
          pathOnly,
        )
      expect((await byPath('acme/platform/api')).status).toBe(200)
      expectAwsError(
        await byPath(ids['acme/platform/api']!),
        'AccessDeniedException',
        400,
        /UseConnection/,
      )
      // secret's id: no Allow for the id, none for its path.
      const denied = await branch(ids['acme/platform/secret']!)
      expectAwsError(denied, 'AccessDeniedException', 400, /UseConnection/)
      expectAwsError(
        await branch('acme/platform/secret'),
        'AccessDeniedException',
        400,
        /UseConnection/,
      )
      // Nothing leaks to a caller the id is not allowed for: an unknown id, an id outside the
      // namespace and a connection that does not exist answer the same sentence as secret's id.
      const sentence = (r: { json: Record<string, unknown> }) =>
        String(r.json['message'] ?? r.json['Message']).replace(arn, '<arn>')
      for (const other of [
        await branch('999999999'),
        await branch(ids['acme/other']!),
        await glExt(
          f,
          'GetBranch',
          {
            ConnectionArn: arn,
            FullRepositoryId: ids['acme/platform/secret']!,
            BranchName: 'main',
          },
          creds,
        ),
      ]) {
        expectAwsError(other, 'AccessDeniedException', 400, /UseConnection/)
        expect(sentence(other)).toBe(sentence(denied))
      }
      const missing = arn.replace(/[0-9a-f-]{36}$/, '00000000-0000-0000-0000-000000000000')
      const gone = await glExt(
        f,
        'GetBranch',
        { ConnectionArn: missing, FullRepositoryId: ids['acme/platform/api']!, BranchName: 'main' },
        creds,
      )
      expectAwsError(gone, 'AccessDeniedException', 400, /UseConnection/)
    })
  })

  describe(`numeric FullRepositoryId on Bitbucket [${engine}]`, () => {
    let b: ConnectFixture
    let arn: string
    beforeAll(async () => {
      b = await startConnectFixture(engine)
      arn = await newConnection(b)
      expect((await completeWithToken(b, arn)).status).toBe(200)
    }, 60_000)
    afterAll(() => stopConnectFixture(b))

    it('is refused with InvalidInputException, before any provider call', async () => {
      for (const [op, extra] of [
        ['GetBranch', { BranchName: 'main' }],
        ['ListBranches', {}],
        ['GetCloneCredentials', {}],
      ] as const)
        expectAwsError(
          await ext(b, op, { ConnectionArn: arn, FullRepositoryId: '42', ...extra }),
          'InvalidInputException',
          400,
          /numeric FullRepositoryId/,
        )
    })
  })
}
