/**
 * Junction's own operations authorize before they read a connection or call the provider (issue
 * 11, item 11): a caller without the permission gets AccessDeniedException and nothing else —
 * the same answer for an existing and a nonexistent connection, a valid and an invalid token —
 * and Bitbucket is never asked (its request counters do not move).
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  completeWithToken,
  ext,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import type { Credentials, RawResponse } from '../helpers/client.js'

for (const engine of testEngines()) {
  describe(`extension operations authorize first [${engine}]`, () => {
    let f: ConnectFixture
    let pending: string
    let available: string
    let missing: string
    let installationId: string
    let outsider: Credentials
    let user: Credentials
    let limited: Credentials
    beforeAll(async () => {
      f = await startConnectFixture(engine)
      pending = await newConnection(f, 'af-pending')
      available = await newConnection(f, 'af-available')
      expect((await completeWithToken(f, available)).status).toBe(200)
      installationId = String(
        (
          (await ext(f, 'ListInstallations', {})).json['Installations'] as {
            InstallationId: string
          }[]
        )[0]!.InstallationId,
      )
      // The same account and shape as a real connection, but none by that id.
      missing = pending.replace(/[^/]+$/, randomUUID())
      // May read connections, nothing more.
      outsider = await userWithPolicy(
        f.iam,
        `af-outsider-${engine}`,
        policy({ Effect: 'Allow', Action: 'codestar-connections:GetConnection', Resource: '*' }),
      )
      // May use connections, but not hand out their tokens.
      user = await userWithPolicy(
        f.iam,
        `af-user-${engine}`,
        policy({ Effect: 'Allow', Action: 'codestar-connections:UseConnection', Resource: '*' }),
      )
      // May complete connections, but only with one installation (known once Bitbucket answers).
      limited = await userWithPolicy(
        f.iam,
        `af-limited-${engine}`,
        policy({
          Effect: 'Allow',
          Action: 'codestar-connections:UpdateConnectionInstallation',
          Resource: '*',
          Condition: {
            StringEqualsIfExists: { 'codestar-connections:InstallationId': 'not-this-one' },
          },
        }),
      )
      await new Promise((res) => setTimeout(res, 1100))
    })
    afterAll(() => stopConnectFixture(f))

    const providerCalls = () => {
      const s = f.sb.state.stats
      return s.apiRequests + s.tokenGrants.authorization_code + s.tokenGrants.refresh_token
    }
    /** The answer with the ARN it names taken out: what the caller could compare. */
    const answer = (r: RawResponse, arn: string) => ({
      status: r.status,
      type: r.json.__type,
      errorType: r.headers.get('x-amzn-errortype'),
      message: String(r.json.Message).split(arn).join('<arn>'),
    })

    it('CompleteConnection: the same AccessDeniedException for every connection and token, and no call to Bitbucket', async () => {
      const before = providerCalls()
      const answers = []
      for (const arn of [pending, available, missing])
        for (const token of [f.world.acmeToken, 'not-a-token'])
          for (const TokenType of ['WorkspaceAccessToken', 'OAuth']) {
            const r = await ext(
              f,
              'CompleteConnection',
              { ConnectionArn: arn, Workspace: 'acme', AccessToken: token, TokenType },
              outsider,
            )
            answers.push(answer(r, arn))
          }
      expect(answers[0]).toEqual({
        status: 400,
        type: 'AccessDeniedException',
        errorType: 'AccessDeniedException',
        message: expect.stringMatching(
          /is not authorized to perform: codestar-connections:UpdateConnectionInstallation on resource: <arn>/,
        ),
      })
      for (const a of answers) expect(a).toEqual(answers[0])
      expect(providerCalls()).toBe(before)
      // Nothing changed either.
      const d = await ext(f, 'DescribeConnection', { ConnectionArn: pending })
      expect((d.json['Connection'] as { ConnectionStatus: string }).ConnectionStatus).toBe(
        'PENDING',
      )
    })

    it('UpdateConnectionInstallation and StartOAuthHandshake: the same denial whether the connection or installation exists', async () => {
      const update = []
      for (const arn of [pending, missing])
        for (const id of [installationId, 'no-such-installation'])
          update.push(
            answer(
              await ext(
                f,
                'UpdateConnectionInstallation',
                { ConnectionArn: arn, InstallationId: id },
                outsider,
              ),
              arn,
            ),
          )
      expect(update[0]).toMatchObject({ type: 'AccessDeniedException' })
      for (const a of update) expect(a).toEqual(update[0])
      const start = []
      for (const arn of [pending, missing])
        start.push(
          answer(await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn }, outsider), arn),
        )
      expect(start[0]).toMatchObject({
        type: 'AccessDeniedException',
        message: expect.stringMatching(/StartOAuthHandshake/),
      })
      expect(start[1]).toEqual(start[0])
    })

    it('the operations that use a connection: the same denial for an existing and a nonexistent one, and no call to Bitbucket', async () => {
      const repo = { FullRepositoryId: 'acme/app' }
      const commit = { ...repo, CommitId: f.world.commits.second }
      const ops: [string, Record<string, unknown>, Credentials, RegExp][] = [
        ['ListRepositories', {}, outsider, /UseConnection/],
        ['ListBranches', repo, outsider, /UseConnection/],
        ['GetBranch', { ...repo, BranchName: 'main' }, outsider, /UseConnection/],
        ['GetCommit', commit, outsider, /UseConnection/],
        ['ListChangedFiles', commit, outsider, /UseConnection/],
        ['GetSourceArchiveUrl', commit, outsider, /UseConnection/],
        ['GetCloneCredentials', repo, outsider, /UseConnection/],
        // Allowed to use it, but handing out the token needs GetConnectionToken as well.
        ['GetCloneCredentials', repo, user, /GetConnectionToken/],
        ['GetCloneCredentials', { FullRepositoryId: 'rival/secret' }, user, /GetConnectionToken/],
      ]
      const before = providerCalls()
      for (const [op, body, who, action] of ops) {
        const got = []
        for (const arn of [available, pending, missing])
          got.push(answer(await ext(f, op, { ConnectionArn: arn, ...body }, who), arn))
        expect(got[0], op).toMatchObject({
          status: 400,
          type: 'AccessDeniedException',
          message: expect.stringMatching(action),
        })
        expect(got[1], op).toEqual(got[0])
        expect(got[2], op).toEqual(got[0])
      }
      expect(providerCalls()).toBe(before)
    })

    it('still completes for a caller who may: the installation is checked once Bitbucket names it', async () => {
      // Allowed before the provider is asked (the key is absent), refused once it is known…
      const refused = await ext(
        f,
        'CompleteConnection',
        { ConnectionArn: pending, Workspace: 'acme', AccessToken: f.world.acmeToken },
        limited,
      )
      expect(refused.json.__type).toBe('AccessDeniedException')
      expect(refused.json.Message).toMatch(/UpdateConnectionInstallation/)
      // …and a nonexistent connection is reported as such to a caller who may complete it.
      const unknown = await ext(
        f,
        'CompleteConnection',
        { ConnectionArn: missing, Workspace: 'acme', AccessToken: f.world.acmeToken },
        limited,
      )
      expect(unknown.json.__type).toBe('ResourceNotFoundException')
      const ok = await completeWithToken(f, pending)
      expect(ok.status, ok.text).toBe(200)
    })
  })
}
