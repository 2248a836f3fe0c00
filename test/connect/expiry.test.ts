/**
 * Everything that expires, expires: Junction runs on a clock the test moves, and each case first
 * shows the thing working in time, then moves the clock just past its lifetime and shows it
 * refused (and, where it matters, that nothing changed). Requests after a move are signed at the
 * moved time, so that only the expiry under test can refuse them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CreateRoleCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import {
  CodeStarConnectionsClient,
  GetConnectionCommand,
  ListConnectionsCommand,
} from '@aws-sdk/client-codestar-connections'
import { CreatePipelineCommand } from '@aws-sdk/client-codepipeline'
import { ARCHIVE_LINK_TTL_MS, HANDSHAKE_TTL_MS } from '../../src/connect/service.js'
import { expectAwsError, sdkError } from '../helpers/api.js'
import { testClock, type TestClock } from '../helpers/clock.js'
import { RawClient, type Credentials } from '../helpers/client.js'
import {
  completeWithToken,
  ext,
  handshakeToChoice,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { Browser } from '../helpers/browser.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import {
  declaration,
  executions,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'
import { ListActionExecutionsCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { describeWith, needs } from '../helpers/requirements.js'
import { testEngines } from '../helpers/engines.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

for (const engine of testEngines()) {
  describe(`what expires, expires [${engine}]`, () => {
    let f: ConnectFixture
    let clock: TestClock
    let advance: (ms: number) => void
    beforeAll(async () => {
      clock = testClock()
      f = await startConnectFixture(engine, { 'console-session-ttl': '3600' }, { clock: clock.now })
      // The fixture's clients sign at the moved time too.
      f.raw = new RawClient(f.server.url, f.server.credentials, clock.now)
      advance = (ms) => {
        clock.advance(ms)
        f.sdk.destroy()
        f.iam.destroy()
        f.sdk = connections()
        f.iam = new IAMClient({
          endpoint: f.server.url,
          region: 'us-east-1',
          credentials: { ...f.server.credentials },
          maxAttempts: 1,
          systemClockOffset: clock.offset,
        })
      }
    })
    afterAll(() => stopConnectFixture(f))

    /** A connections client that signs at the test clock's time. */
    const connections = (creds: Credentials = f.server.credentials) =>
      new CodeStarConnectionsClient({
        endpoint: f.server.url,
        region: 'us-east-1',
        credentials: { ...creds },
        maxAttempts: 1,
        systemClockOffset: clock.offset,
      })
    const status = async (arn: string) =>
      (await connections().send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!
        .ConnectionStatus

    it('a handshake whose state expired before the callback is refused and changes nothing', async () => {
      const arn = await newConnection(f)
      const b = new Browser()
      const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn })
      expect(start.status, start.text).toBe(200)
      const consent = await b.request(String(start.json['AuthorizationUrl']))
      expect(consent.status).toBe(200)
      advance(HANDSHAKE_TTL_MS + SECOND)
      const landed = await b.submit(consent.forms[0]!, {
        username: f.world.alice.username,
        password: f.world.alice.password,
        decision: 'grant',
      })
      expect(landed.url).toContain('/oauth/bitbucket/callback')
      expect(landed.status).toBe(400)
      expect(landed.html).toMatch(/expired/)
      expect(await status(arn)).toBe('PENDING')
    })

    it('a handshake authorized in time but chosen too late is refused and changes nothing', async () => {
      const arn = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, arn, f.world.alice)
      expect(choice.status).toBe(200)
      advance(HANDSHAKE_TTL_MS + SECOND)
      const late = await b.submit(choice.forms[0]!, { choice: 'target:acme' })
      expect(late.status).toBeGreaterThanOrEqual(400)
      expect(late.status).toBeLessThan(500)
      expect(late.html).not.toContain('is <strong>AVAILABLE</strong>')
      expect(await status(arn)).toBe('PENDING')
    })

    it('an archive link opens in time and not after its lifetime', async () => {
      const arn = await newConnection(f)
      expect((await completeWithToken(f, arn)).status).toBe(200)
      const r = await ext(f, 'GetSourceArchiveUrl', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
        CommitId: f.world.commits.first,
      })
      expect(r.status, r.text).toBe(200)
      const url = String(r.json['Url'])
      expect(Number(r.json['ExpiresAt'])).toBe(
        Math.floor((clock.now() + ARCHIVE_LINK_TTL_MS) / 1000),
      )
      const inTime = await fetch(url)
      expect(inTime.status).toBe(200)
      await inTime.arrayBuffer()
      advance(ARCHIVE_LINK_TTL_MS + SECOND)
      const late = await fetch(url)
      expect(late.status).toBe(400)
      const text = await late.text()
      expect(text).toMatch(/expired/)
      expect(text).not.toContain('PK')
    })

    it('a provider listing page token continues in time and not after an hour', async () => {
      const arn = await newConnection(f)
      expect((await completeWithToken(f, arn)).status).toBe(200)
      await f.sb.admin('settings', { maxPagelen: 1 }, 'PUT')
      try {
        const first = await ext(f, 'ListRepositories', { ConnectionArn: arn })
        const token = String(first.json['NextToken'])
        const next = await ext(f, 'ListRepositories', { ConnectionArn: arn, NextToken: token })
        expect(next.status, next.text).toBe(200)
        advance(HOUR + SECOND)
        expectAwsError(
          await ext(f, 'ListRepositories', { ConnectionArn: arn, NextToken: token }),
          'InvalidInputException',
          400,
        )
      } finally {
        await f.sb.admin('settings', { maxPagelen: 100 }, 'PUT')
      }
    })

    it('a presigned request is accepted within X-Amz-Expires and refused after', async () => {
      const presigned = (at: Date) =>
        f.raw.call({ operation: 'ListConnections', presign: true, signingDate: at })
      const signedAt = new Date(clock.now())
      expect((await presigned(signedAt)).status).toBe(200)
      advance(300 * SECOND + SECOND) // the raw client presigns for 300 s
      const late = await presigned(signedAt)
      expect(late.status).toBe(403)
      expect(late.json.Message).toMatch(/Signature expired/)
    })

    it('temporary credentials work until their expiry, then ExpiredTokenException', async () => {
      await f.iam.send(
        new CreateRoleCommand({
          RoleName: 'brief',
          AssumeRolePolicyDocument: policy({
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::000000000000:user/assumer' },
            Action: 'sts:AssumeRole',
          }),
        }),
      )
      const assumer = await userWithPolicy(
        f.iam,
        'assumer',
        policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }),
      )
      const sts = new STSClient({
        endpoint: f.server.url,
        region: 'us-east-1',
        credentials: { ...assumer },
        maxAttempts: 1,
        systemClockOffset: clock.offset,
      })
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/brief',
          RoleSessionName: 'brief',
          DurationSeconds: 900,
        }),
      )
      sts.destroy()
      expect(
        Math.abs(out.Credentials!.Expiration!.getTime() - (clock.now() + 900 * SECOND)),
      ).toBeLessThan(5 * SECOND)
      const session = {
        accessKeyId: out.Credentials!.AccessKeyId!,
        secretAccessKey: out.Credentials!.SecretAccessKey!,
        sessionToken: out.Credentials!.SessionToken!,
      }
      // The role has no policy: an explicit-allow-less call is denied, which proves the key works.
      const before = await sdkError(connections(session).send(new ListConnectionsCommand({})))
      expect(before.name).toBe('AccessDeniedException')
      advance(900 * SECOND + SECOND)
      const after = await sdkError(connections(session).send(new ListConnectionsCommand({})))
      expect(after.name).toBe('ExpiredTokenException')
    })

    it('a policy conditioned on aws:CurrentTime stops allowing when the time has passed', async () => {
      const until = new Date(clock.now() + HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z')
      const creds = await userWithPolicy(f.iam, 'until-noon')
      await f.iam.send(
        new PutUserPolicyCommand({
          UserName: 'until-noon',
          PolicyName: 'until',
          PolicyDocument: policy({
            Effect: 'Allow',
            Action: 'codestar-connections:ListConnections',
            Resource: '*',
            Condition: { DateLessThan: { 'aws:CurrentTime': until } },
          }),
        }),
      )
      const c = connections(creds)
      await waitFor('the policy', async () =>
        (await c.send(new ListConnectionsCommand({})).then(
          () => true,
          () => false,
        ))
          ? true
          : undefined,
      )
      c.destroy()
      advance(HOUR + SECOND)
      const after = await sdkError(connections(creds).send(new ListConnectionsCommand({})))
      expect(after.name).toBe('AccessDeniedException')
    })

    it('a console session lasts --console-session-ttl and not a second more', async () => {
      const signIn = await fetch(`${f.server.url}/console/signin`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          accessKeyId: f.server.credentials.accessKeyId,
          secretAccessKey: f.server.credentials.secretAccessKey,
          next: '/console',
        }),
      })
      await signIn.body?.cancel()
      const cookie = signIn.headers
        .getSetCookie()
        .find((c) => c.startsWith('junction_console='))!
        .split(';')[0]!
      const open = async () => {
        const r = await fetch(`${f.server.url}/console`, {
          headers: { cookie },
          redirect: 'manual',
        })
        await r.body?.cancel()
        return r.status
      }
      expect(await open()).toBe(200)
      advance(HOUR - MINUTE)
      expect(await open()).toBe(200)
      advance(MINUTE + SECOND)
      expect(await open()).toBe(303)
    })
  })
}

describeWith(needs.root)('a build log link expires [sqlite]', () => {
  let p: Awaited<ReturnType<typeof startPipelineFixture>>
  let clock: TestClock
  beforeAll(async () => {
    clock = testClock()
    p = await startPipelineFixture('sqlite', { 'enable-commands': true }, { clock: clock.now })
  })
  afterAll(() => stopPipelineFixture(p))

  const logUrl = async (cp: CodePipelineClient, pipelineName: string, id: string) => {
    const r = await cp.send(
      new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId: id } }),
    )
    const a = r.actionExecutionDetails!.find((x) => x.actionName === 'Build')!
    return a.output!.executionResult!.externalExecutionUrl!
  }

  it('opens for an hour, then answers 403', async () => {
    await p.cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'logged',
          roleArn: p.role,
          connectionArn: p.arn,
          commands: ['echo expiring-log-line'],
        }),
      }),
    )
    const [run] = await waitFor('the run', async () => {
      const e = await executions(p.cp, 'logged')
      return e.length ? e : undefined
    })
    const done = await finished(p.cp, 'logged', run!.pipelineExecutionId!)
    expect(done.status, done.statusSummary).toBe('Succeeded')
    const url = await logUrl(p.cp, 'logged', run!.pipelineExecutionId!)
    clock.advance(HOUR - MINUTE)
    const inTime = await fetch(url)
    expect(inTime.status).toBe(200)
    expect(await inTime.text()).toContain('expiring-log-line')
    clock.advance(MINUTE + SECOND)
    const late = await fetch(url)
    expect(late.status).toBe(403)
    expect(await late.text()).not.toContain('expiring-log-line')
  })
})
