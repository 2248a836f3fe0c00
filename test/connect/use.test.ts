/**
 * Completion without a browser and what pipelines do with an AVAILABLE connection: repositories,
 * branches, commits, changed files, archives and clone credentials, each checked with
 * UseConnection and its condition keys, and never outside the connection's workspace.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAwsError } from '../helpers/api.js'
import { oauthCredentials, sandboxProvider } from '../helpers/bitbucket.js'
import {
  completeWithToken,
  ext,
  handshakeToChoice,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { policy, userWithPolicy } from '../helpers/iam.js'

const run = promisify(execFile)

for (const engine of testEngines()) {
  describe(`connection completion and use [${engine}]`, () => {
    let f: ConnectFixture
    let arn: string
    beforeAll(async () => {
      f = await startConnectFixture(engine)
      arn = await newConnection(f, 'use-me')
    })
    afterAll(() => stopConnectFixture(f))

    const status = async (a: string) =>
      (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: a }))).Connection!

    it('refuses a token Bitbucket does not accept, or one for another workspace, and changes nothing', async () => {
      expectAwsError(
        await completeWithToken(f, arn, 'not-a-token'),
        'ResourceUnavailableException',
        400,
        /refused the credential/,
      )
      expectAwsError(
        await completeWithToken(f, arn, f.world.rivalToken, 'acme'),
        'ResourceNotFoundException',
        400,
        /acme/,
      )
      expectAwsError(
        await completeWithToken(f, arn, f.world.acmeToken, 'no/such'),
        'ValidationException',
        400,
        /Workspace/,
      )
      const c = await status(arn)
      expect(c.ConnectionStatus).toBe('PENDING')
      expect((await ext(f, 'ListInstallations', {})).json['Installations']).toEqual([])
    })

    it('completes a connection with a workspace access token: AVAILABLE, owner and installation recorded', async () => {
      const r = await completeWithToken(f, arn)
      expect(r.status, r.text).toBe(200)
      expect(r.json['Connection']).toMatchObject({
        ConnectionStatus: 'AVAILABLE',
        OwnerAccountId: '000000000000',
        ConnectionName: 'use-me',
      })
      expect(r.json['Installation']).toMatchObject({
        Workspace: 'acme',
        CredentialType: 'WorkspaceAccessToken',
        Status: 'AVAILABLE',
      })
      expect(r.text).not.toContain(f.world.acmeToken)
      expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
    })

    it('completes with a user OAuth token only when the user administers the workspace', async () => {
      const provider = sandboxProvider(f.sb)
      const bob = await oauthCredentials(f.sb, provider, f.world.bob)
      const other = await newConnection(f)
      const denied = await ext(f, 'CompleteConnection', {
        ConnectionArn: other,
        Workspace: 'acme',
        AccessToken: bob.accessToken,
        TokenType: 'OAuth',
      })
      expectAwsError(denied, 'AccessDeniedException', 400, /needs its administrator/)
      const alice = await oauthCredentials(f.sb, provider, f.world.alice)
      const ok = await ext(f, 'CompleteConnection', {
        ConnectionArn: other,
        Workspace: 'rival',
        AccessToken: alice.accessToken,
        RefreshToken: alice.refreshToken,
        TokenType: 'OAuth',
        ExpiresIn: 7200,
      })
      expect(ok.status, ok.text).toBe(200)
      expect(ok.json['Installation']).toMatchObject({ Workspace: 'rival', CredentialType: 'OAuth' })
    })

    it('lists the workspace repositories and branches, and reads a branch head and a commit', async () => {
      const repos = await ext(f, 'ListRepositories', { ConnectionArn: arn })
      expect(
        (repos.json['Repositories'] as { FullRepositoryId: string }[])
          .map((r) => r.FullRepositoryId)
          .sort(),
      ).toEqual(['acme/app', 'acme/lib'])
      const branches = await ext(f, 'ListBranches', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
      })
      expect(branches.json['Branches']).toEqual(
        expect.arrayContaining([{ BranchName: 'main', CommitId: f.world.commits.second }]),
      )
      const head = await ext(f, 'GetBranch', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
        BranchName: 'main',
      })
      expect(head.json).toMatchObject({
        BranchName: 'main',
        CommitId: f.world.commits.second,
        CommitMessage: 'Second commit\n\nWith a body.\n',
        Author: 'Alice A <alice@example.com>',
        ParentCommitIds: [f.world.commits.first],
      })
      expect(new Date(String(head.json['AuthorDate'])).getTime()).toBeGreaterThan(
        Date.now() - 600_000,
      )
      const short = await ext(f, 'GetCommit', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
        CommitId: f.world.commits.second.slice(0, 12),
      })
      expect(short.json['CommitId']).toBe(f.world.commits.second)
      expectAwsError(
        await ext(f, 'GetBranch', {
          ConnectionArn: arn,
          FullRepositoryId: 'acme/app',
          BranchName: 'nope',
        }),
        'ResourceNotFoundException',
      )
    })

    it('pages through repositories with signed NextTokens', async () => {
      await f.sb.admin('settings', { maxPagelen: 1 }, 'PUT')
      try {
        const seen: string[] = []
        let token: string | undefined
        do {
          const r = await ext(f, 'ListRepositories', {
            ConnectionArn: arn,
            ...(token ? { NextToken: token } : {}),
          })
          seen.push(
            ...(r.json['Repositories'] as { FullRepositoryId: string }[]).map(
              (x) => x.FullRepositoryId,
            ),
          )
          token = r.json['NextToken'] as string | undefined
        } while (token)
        expect(seen.sort()).toEqual(['acme/app', 'acme/lib'])
        const first = await ext(f, 'ListRepositories', { ConnectionArn: arn })
        const other = await newConnection(f)
        await completeWithToken(f, other)
        // A token from one listing does not open another one.
        expectAwsError(
          await ext(f, 'ListRepositories', {
            ConnectionArn: other,
            NextToken: first.json['NextToken'],
          }),
          'InvalidInputException',
          400,
          /NextToken/,
        )
        expectAwsError(
          await ext(f, 'ListRepositories', { ConnectionArn: arn, NextToken: 'forged.token' }),
          'InvalidInputException',
        )
      } finally {
        await f.sb.admin('settings', { maxPagelen: null }, 'PUT')
      }
    })

    it('lists the files changed between two commits, from the diffstat API', async () => {
      const r = await ext(f, 'ListChangedFiles', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
        CommitId: f.world.commits.second,
        BaseCommitId: f.world.commits.first,
      })
      expect(
        (r.json['Files'] as { Path: string; Status: string }[])
          .map((x) => `${x.Status} ${x.Path}`)
          .sort(),
      ).toEqual(['ADDED src/new.c', 'MODIFIED src/main.c', 'REMOVED docs/old.md'])
    })

    it('hands out a short-lived archive link whose zip holds the tree at the commit', async () => {
      const r = await ext(f, 'GetSourceArchiveUrl', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
        CommitId: f.world.commits.first.slice(0, 10),
      })
      expect(r.status, r.text).toBe(200)
      expect(r.json['CommitId']).toBe(f.world.commits.first)
      expect(Number(r.json['ExpiresAt'])).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 300)
      const url = String(r.json['Url'])
      expect(url.startsWith(`${f.server.url}/connections/archive/`)).toBe(true)
      const zip = await fetch(url)
      expect(zip.status).toBe(200)
      const dir = mkdtempSync(join(tmpdir(), 'junction-archive-'))
      try {
        writeFileSync(join(dir, 'a.zip'), Buffer.from(await zip.arrayBuffer()))
        const { stdout } = await run('unzip', ['-Z1', join(dir, 'a.zip')])
        const files = stdout
          .split('\n')
          .filter((l) => l && !l.endsWith('/'))
          .map((l) => l.split('/').slice(1).join('/'))
        expect(files.sort()).toEqual(['README.md', 'docs/old.md', 'src/main.c'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      const forged = await fetch(url.replace(/.{4}$/, 'AAAA'))
      expect(forged.status).toBe(400)
      expect(((await forged.json()) as { __type: string }).__type).toBe('AccessDeniedException')
    })

    it('hands out clone credentials that git clones with', async () => {
      const r = await ext(f, 'GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
      })
      expect(r.json).toMatchObject({
        CloneUrl: `${f.sb.url}/acme/app.git`,
        Username: 'x-token-auth',
      })
      const dir = mkdtempSync(join(tmpdir(), 'junction-clone-'))
      try {
        const u = new URL(String(r.json['CloneUrl']))
        u.username = String(r.json['Username'])
        u.password = String(r.json['Password'])
        await run('git', ['clone', '-q', u.toString(), join(dir, 'app')], {
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        })
        const { stdout } = await run('git', ['-C', join(dir, 'app'), 'log', '--format=%H'])
        expect(stdout.trim().split('\n')).toEqual([f.world.commits.second, f.world.commits.first])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('refuses repositories outside the workspace, whatever the credential could reach', async () => {
      // alice's OAuth credential reaches acme and rival; the connection was completed for acme.
      const arnOauth = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, arnOauth, f.world.alice)
      const target = choice.forms[0]!.options.get('choice')!.find((o) => o === 'target:acme')!
      await b.submit(choice.forms[0]!, { choice: target })
      for (const [op, extra] of [
        ['ListBranches', {}],
        ['GetBranch', { BranchName: 'main' }],
        ['GetCloneCredentials', {}],
        ['GetSourceArchiveUrl', { CommitId: 'abcdef12' }],
        ['ListChangedFiles', { CommitId: 'abcdef12' }],
      ] as const) {
        const r = await ext(f, op, {
          ConnectionArn: arnOauth,
          FullRepositoryId: 'rival/secret',
          ...extra,
        })
        expectAwsError(
          r,
          'AccessDeniedException',
          400,
          /reaches only repositories of the Bitbucket workspace acme/,
        )
      }
      const ok = await ext(f, 'GetBranch', {
        ConnectionArn: arnOauth,
        FullRepositoryId: 'acme/app',
        BranchName: 'main',
      })
      expect(ok.status).toBe(200)
    })

    it('refuses to use a PENDING connection, with the way out in the message', async () => {
      const pending = await newConnection(f)
      expectAwsError(
        await ext(f, 'ListRepositories', { ConnectionArn: pending }),
        'ResourceUnavailableException',
        400,
        /PENDING: complete it first/,
      )
    })

    it('checks UseConnection with FullRepositoryId, BranchName and ProviderAction, and explains denials', async () => {
      const creds = await userWithPolicy(
        f.iam,
        `use-${engine}`,
        policy(
          {
            Effect: 'Allow',
            Action: 'codestar-connections:UseConnection',
            Resource: arn,
            Condition: {
              StringEquals: {
                'codestar-connections:FullRepositoryId': 'acme/app',
                'codestar-connections:ProviderAction': 'GetBranch',
              },
              StringLike: { 'codestar-connections:BranchName': 'release/*' },
            },
          },
          {
            Effect: 'Allow',
            Action: 'codestar-connections:UseConnection',
            Resource: arn,
            Condition: {
              StringEquals: { 'codestar-connections:ProviderPermissionsRequired': 'read_only' },
            },
          },
          {
            Effect: 'Deny',
            Action: 'codestar-connections:UseConnection',
            Resource: '*',
            Condition: { StringEquals: { 'codestar-connections:ProviderAction': 'GitPull' } },
          },
        ),
      )
      await new Promise((r) => setTimeout(r, 1100))
      await f.sb.admin('repositories/acme/app/commits', {
        branch: 'release/1',
        files: { 'r.txt': 'r' },
      })
      const allowed = await ext(
        f,
        'GetBranch',
        { ConnectionArn: arn, FullRepositoryId: 'acme/app', BranchName: 'release/1' },
        creds,
      )
      expect(allowed.status, allowed.text).toBe(200)
      // read_only actions pass the second statement; GitPull is denied explicitly.
      expect((await ext(f, 'ListRepositories', { ConnectionArn: arn }, creds)).status).toBe(200)
      const pull = await ext(
        f,
        'GetCloneCredentials',
        { ConnectionArn: arn, FullRepositoryId: 'acme/app' },
        creds,
      )
      expectAwsError(pull, 'AccessDeniedException', 400, /explicit deny/)
      // The archive is read_write (StartUploadArchiveToS3): no statement allows it.
      const archive = await ext(
        f,
        'GetSourceArchiveUrl',
        { ConnectionArn: arn, FullRepositoryId: 'acme/app', CommitId: f.world.commits.second },
        creds,
      )
      expectAwsError(archive, 'AccessDeniedException', 400, /UseConnection/)
    })
  })
}
