/**
 * Large artifacts move without stopping the API (issue 11, item 6). Before the fix, output
 * artifacts and source archives were read, zipped and written whole on the event loop: an 800 MB
 * output froze `/health` for 39 s and left 3 GB resident. Here a Commands action produces a
 * 500 MB output artifact that the next action extracts, while `/health` and `GetConnection` are
 * polled and each must answer within 1 s the whole time; the caps (`--max-artifact-size`,
 * `--max-source-archive-size`) fail the action with a clear message and leave no partial file;
 * and links a build plants among its outputs never carry Junction's files into an artifact.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  GetPipelineExecutionCommand,
  type CodePipelineClient,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline'
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import {
  actionLog,
  declaration,
  executions,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'
const BIG = 500 * 1024 * 1024

/** Source, then a build making `commands`' outputs (artifact Out), then one that reads them. */
function threeStages(
  name: string,
  roleArn: string,
  connectionArn: string,
  commands: string[],
  files: string[],
  check: string[],
): PipelineDeclaration {
  const base = declaration({ name, roleArn, connectionArn, commands })
  const stages = base.stages!
  stages[1]!.actions![0]!.outputArtifacts = [{ name: 'Out', files }]
  stages.push({
    name: 'Check',
    actions: [
      {
        name: 'Check',
        actionTypeId: { category: 'Compute', owner: 'AWS', provider: 'Commands', version: '1' },
        commands: check,
        inputArtifacts: [{ name: 'Out' }],
      },
    ],
  })
  return base
}

async function firstRun(cp: CodePipelineClient, name: string, timeoutMs = 20_000) {
  const [first] = await waitFor(`the first run of ${name}`, async () => {
    const e = await executions(cp, name)
    return e.length > 0 ? e : undefined
  })
  const id = first!.pipelineExecutionId!
  return waitFor(
    `execution ${id} of ${name}`,
    async () => {
      const r = await cp.send(
        new GetPipelineExecutionCommand({ pipelineName: name, pipelineExecutionId: id }),
      )
      return r.pipelineExecution!.status === 'InProgress' ? undefined : r.pipelineExecution!
    },
    timeoutMs,
  )
}

const logOf = actionLog

describe('a 500 MB output artifact [sqlite]', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  beforeAll(async () => {
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', { 'enable-commands': true }))
  })
  afterAll(() => stopPipelineFixture({ f, cp }))

  it('is zipped and extracted while /health and GetConnection answer within 1 s', async () => {
    const slowest = { health: 0, getConnection: 0 }
    let polls = 0
    let peakRss = 0
    const rssBefore = process.memoryUsage().rss
    let polling = true
    const poller = (async () => {
      while (polling) {
        let t = performance.now()
        const h = await fetch(`${f.server.url}/health`)
        await h.arrayBuffer()
        expect(h.status).toBe(200)
        slowest.health = Math.max(slowest.health, performance.now() - t)
        t = performance.now()
        const c = await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))
        expect(c.Connection!.ConnectionStatus).toBe('AVAILABLE')
        slowest.getConnection = Math.max(slowest.getConnection, performance.now() - t)
        peakRss = Math.max(peakRss, process.memoryUsage().rss)
        polls++
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    let done
    try {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: threeStages(
            'big',
            role,
            arn,
            [
              `head -c ${BIG / 2} /dev/urandom > big.bin`,
              `yes 'a build log line that compresses well' | head -c ${BIG / 2} > big.log`,
            ],
            ['big.*'],
            [
              `test "$(wc -c < big.bin)" -eq ${BIG / 2}`,
              `test "$(wc -c < big.log)" -eq ${BIG / 2}`,
              'echo extracted the whole files',
            ],
          ),
        }),
      )
      done = await firstRun(cp, 'big', 240_000)
    } finally {
      polling = false
      await poller
    }
    expect(done.status, done.statusSummary).toBe('Succeeded')
    expect(await logOf(cp, 'big', done.pipelineExecutionId!, 'Check')).toContain(
      'extracted the whole files',
    )
    const zip = join(f.server.dataDir, 'artifacts', ACCOUNT, 'big', done.pipelineExecutionId!)
    // The random half is stored, the log deflated.
    const size = statSync(join(zip, 'Out.zip')).size
    expect(size).toBeGreaterThan(BIG / 2)
    expect(size).toBeLessThan(BIG / 2 + 10 * 1048576)
    const listing = execFileSync('unzip', ['-l', join(zip, 'Out.zip')], { encoding: 'utf8' })
    expect(listing).toMatch(new RegExp(`^\\s*${BIG / 2}\\s.*big\\.bin$`, 'm'))
    expect(listing).toMatch(new RegExp(`^\\s*${BIG / 2}\\s.*big\\.log$`, 'm'))
    console.log(
      `500 MB artifact: ${polls} polls, slowest /health ${Math.round(slowest.health)} ms, slowest GetConnection ${Math.round(slowest.getConnection)} ms, RSS +${Math.round((peakRss - rssBefore) / 1048576)} MiB`,
    )
    expect(polls).toBeGreaterThan(20)
    expect(slowest.health).toBeLessThan(1000)
    expect(slowest.getConnection).toBeLessThan(1000)
    // Streamed: memory does not grow with the artifact (it grew by several times its size).
    expect(peakRss - rssBefore).toBeLessThan(256 * 1048576)
  }, 300_000)

  it('never follows a link a build plants among its outputs', async () => {
    const key = join(f.server.dataDir, 'master.key')
    const planted = [
      'mkdir -p out/sub',
      'echo mine > out/sub/mine.txt',
      `ln -s ${key} out/key`,
      `ln -s ${f.server.dataDir} out/data`,
      `ln -s ${key} out/sub/key.txt`,
    ]
    await cp.send(
      new CreatePipelineCommand({
        pipeline: threeStages(
          'links',
          role,
          arn,
          planted,
          ['out/**'],
          [
            'find out | sort',
            'test ! -e out/key && test ! -e out/data && test ! -e out/sub/key.txt',
          ],
        ),
      }),
    )
    const done = await firstRun(cp, 'links')
    expect(done.status, done.statusSummary).toBe('Succeeded')
    const zip = join(f.server.dataDir, 'artifacts', ACCOUNT, 'links', done.pipelineExecutionId!)
    const listing = execFileSync('unzip', ['-Z1', join(zip, 'Out.zip')], { encoding: 'utf8' })
    expect(listing.trim().split('\n')).toEqual(['out/sub/mine.txt'])
    const log = await logOf(cp, 'links', done.pipelineExecutionId!, 'Build')
    expect(log).toContain('skipped out/key, a symbolic link')
    expect(log).toContain('skipped out/sub/key.txt, a symbolic link')
  })
})

describe('artifact and source archive caps [sqlite]', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  beforeAll(async () => {
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', {
      'enable-commands': true,
      'max-artifact-size': '2',
      'max-source-archive-size': '1',
    }))
  })
  afterAll(() => stopPipelineFixture({ f, cp }))

  it('fails an output artifact over --max-artifact-size and leaves no partial file', async () => {
    await cp.send(
      new CreatePipelineCommand({
        pipeline: threeStages(
          'over',
          role,
          arn,
          ['head -c 1500000 /dev/urandom > a.bin', 'head -c 1500000 /dev/urandom > b.bin'],
          ['*.bin'],
          ['ls'],
        ),
      }),
    )
    const done = await firstRun(cp, 'over')
    expect(done.status).toBe('Failed')
    expect(done.statusSummary).toMatch(
      /Output artifact Out is larger than the limit of 2 MiB \(the operator's --max-artifact-size\)/,
    )
    const dir = join(f.server.dataDir, 'artifacts', ACCOUNT, 'over', done.pipelineExecutionId!)
    expect(readdirSync(dir).sort()).toEqual(['SourceArtifact.zip', 'logs'])
    // One file under the cap still makes its artifact.
    await cp.send(
      new CreatePipelineCommand({
        pipeline: threeStages(
          'under',
          role,
          arn,
          ['head -c 1500000 /dev/urandom > a.bin'],
          ['*.bin'],
          ['test "$(wc -c < a.bin)" -eq 1500000'],
        ),
      }),
    )
    const ok = await firstRun(cp, 'under')
    expect(ok.status, ok.statusSummary).toBe('Succeeded')
  })

  it('fails a source archive over --max-source-archive-size and leaves no partial file', async () => {
    // About 2.7 MB of base64 text from random bytes: its archive stays above 1 MiB.
    await f.sb.admin(`repositories/acme/app/commits`, {
      branch: 'huge',
      message: 'a big file',
      author: 'alice',
      files: { 'big.txt': randomBytes(2_000_000).toString('base64') },
    })
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({ name: 'huge', roleArn: role, connectionArn: arn, branch: 'huge' }),
      }),
    )
    const done = await firstRun(cp, 'huge')
    expect(done.status).toBe('Failed')
    expect(done.statusSummary).toMatch(
      /The source archive of acme\/app at [0-9a-f]{12} is larger than the limit of 1 MiB \(the operator's --max-source-archive-size\)/,
    )
    const dir = join(f.server.dataDir, 'artifacts', ACCOUNT, 'huge', done.pipelineExecutionId!)
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
  })
})
