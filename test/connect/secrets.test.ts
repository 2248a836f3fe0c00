/**
 * Provider secrets never leave their vault: after handshakes, completions, refreshes, use and
 * revocation, no token or client secret appears in the database (file or tables), in any log
 * line, or in any API answer other than the clone credentials handed out on purpose.
 */
import { existsSync, readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import pg from 'pg'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

async function databaseText(f: ConnectFixture): Promise<string> {
  if (f.server.engine === 'sqlite') {
    const file = f.server.database
    return [file, `${file}-wal`]
      .filter(existsSync)
      .map((p) => readFileSync(p).toString('latin1'))
      .join('\n')
  }
  const url = new URL(f.server.database)
  const schema = url.searchParams.get('schema')!
  url.searchParams.delete('schema')
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    const tables = await client.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1',
      [schema],
    )
    let text = ''
    for (const t of tables.rows) {
      const rows = await client.query(`select t::text as row from "${schema}"."${t.table_name}" t`)
      text += rows.rows.map((r: { row: string }) => r.row).join('\n')
    }
    return text
  } finally {
    await client.end()
  }
}

for (const engine of testEngines()) {
  describe(`no secret escapes [${engine}]`, () => {
    let f: ConnectFixture
    const logs: string[] = []
    const answers: string[] = []
    beforeAll(async () => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          logs.push(chunk.toString())
          done()
        },
      })
      f = await startConnectFixture(
        engine,
        { 'credential-recheck-interval': '1' },
        { logger: pino({ level: 'trace' }, sink) },
      )
    })
    afterAll(() => stopConnectFixture(f))

    const record = async (p: ReturnType<typeof ext>) => {
      const r = await p
      answers.push(r.text)
      return r
    }

    it('runs every flow that touches a secret', async () => {
      // Browser handshake (an OAuth access and refresh token).
      const a = await newConnection(f)
      const { browser: choice, b } = await handshakeToChoice(f, a, f.world.alice)
      answers.push(choice.html, (await b.submit(choice.forms[0]!, { choice: 'target:acme' })).html)
      // Completion with a workspace token and with a user token.
      const c = await newConnection(f)
      await record(completeWithToken(f, c, f.world.rivalToken, 'rival'))
      const provider = sandboxProvider(f.sb)
      const user = await oauthCredentials(f.sb, provider, f.world.alice)
      const d = await newConnection(f)
      await record(
        ext(f, 'CompleteConnection', {
          ConnectionArn: d,
          Workspace: 'acme',
          AccessToken: user.accessToken,
          RefreshToken: user.refreshToken,
          TokenType: 'OAuth',
        }),
      )
      // A refused token and a malformed completion: errors must not echo the token.
      await record(completeWithToken(f, await newConnection(f), 'bogus-token-value-1234567890'))
      await record(
        ext(f, 'CompleteConnection', {
          ConnectionArn: c,
          Workspace: 'x',
          AccessToken: f.world.acmeToken,
          Extra: f.world.acmeToken,
        }),
      )
      // Use, a forced refresh, revocation to ERROR and recovery.
      for (const t of Object.values(f.sb.state.data.tokens))
        if (t.kind === 'access' && t.username === 'alice') t.expiresAt = Date.now() - 1
      await record(
        ext(f, 'GetBranch', { ConnectionArn: a, FullRepositoryId: 'acme/app', BranchName: 'main' }),
      )
      await record(ext(f, 'ListRepositories', { ConnectionArn: c }))
      await f.sb.admin('tokens/revoke', { token: f.world.rivalToken })
      await record(ext(f, 'ListRepositories', { ConnectionArn: c }))
      await record(ext(f, 'DescribeConnection', { ConnectionArn: c }))
      await record(ext(f, 'ListInstallations', {}))
      await f.sb.admin('tokens/restore', { token: f.world.rivalToken })
      await new Promise((r) => setTimeout(r, 1500))
      const clone = await ext(f, 'GetCloneCredentials', {
        ConnectionArn: a,
        FullRepositoryId: 'acme/app',
      })
      expect(String(clone.json['Password'])).toMatch(/\S{20,}/)
    })

    it('finds no token or client secret in the database, the logs or the answers', async () => {
      const secrets = [
        ...Object.keys(f.sb.state.data.tokens),
        f.sb.consumer!.secret,
        'bogus-token-value-1234567890',
      ]
      expect(secrets.length).toBeGreaterThan(8)
      const db = await databaseText(f)
      expect(db.length).toBeGreaterThan(1000)
      expect(db).toContain('acme')
      const log = logs.join('')
      expect(log).toContain('connection completed')
      expect(log).toContain('credential refreshed')
      const answerText = answers.join('\n')
      for (const s of secrets) {
        expect(db.includes(s), 'database').toBe(false)
        expect(log.includes(s), 'logs').toBe(false)
        expect(answerText.includes(s), 'answers').toBe(false)
      }
    })
  })
}
