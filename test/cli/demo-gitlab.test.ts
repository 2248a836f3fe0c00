/**
 * `junction demo --provider gitlab`, followed word by word: the demo is spawned from dist/, what it
 * prints is parsed, and the commands it prints are run as printed (the AWS CLI with its `export`
 * lines, `npx junction …`, `git clone`, the push) with only `<arn>` filled in: a connection
 * completed without a browser with the demo user's personal access token, and another through
 * the printed handshake link (an HTTP client that keeps cookies: the sandbox's consent page, then
 * Junction's namespace choice), both AVAILABLE; a clone
 * through the connection; a pipeline whose source is the demo project, started by the push
 * (trigger Webhook, through the project hook Junction registered) at the pushed commit.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { Browser } from '../helpers/browser.js'
import { BIN } from '../helpers/process.js'
import { waitFor } from '../helpers/pipelines.js'
import { describeWith, needs } from '../helpers/requirements.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 })
const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')

/** The printed line after the line that starts with `step`, trimmed. */
function commandAfter(text: string, step: string): string {
  const lines = text.split('\n')
  const i = lines.findIndex((l) => l.startsWith(step))
  if (i < 0) throw new Error(`no step ${step} in:\n${text}`)
  return lines[i + 1]!.trim()
}

/** Splits a printed command into words (single quotes group, as the shell does). */
function words(command: string): string[] {
  const out: string[] = []
  for (const m of command.matchAll(/'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2]!)
  return out
}

describeWith(needs.aws)('npm run demo -- --provider gitlab', () => {
  let dir: string
  let child: ChildProcess
  let out = ''
  let env: NodeJS.ProcessEnv
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-demo-gitlab-'))
    child = spawn(
      process.execPath,
      [
        BIN,
        'demo',
        '--provider',
        'gitlab',
        '--port',
        '0',
        '--sandbox-port',
        '0',
        '--data-dir',
        join(dir, 'data'),
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    // The barrier: the last printed line.
    await waitFor('the demo to print its steps', async () =>
      out.includes('Then watch it:') ? true : undefined,
    )
    env = { PATH: process.env['PATH'], HOME: process.env['HOME'], AWS_PAGER: '' }
    for (const m of out.matchAll(/^\s+export (AWS_[A-Z_]+)=(\S+)$/gm)) env[m[1]!] = m[2]!
  })
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Runs a printed command (its words; `<arn>` filled in) in `cwd` with the demo's exports. */
  const runPrinted = async (command: string, arn?: string, cwd = ROOT) => {
    const w = words(arn ? command.replaceAll('<arn>', arn) : command)
    const r = await run(w[0]!, w.slice(1), { env, cwd })
    return r.stdout
  }
  const status = async (arn: string) =>
    (
      JSON.parse(
        (
          await run('aws', ['codestar-connections', 'get-connection', '--connection-arn', arn], {
            env,
          })
        ).stdout,
      ) as { Connection: { ConnectionStatus: string; OwnerAccountId: string } }
    ).Connection

  let arn: string

  it('prints the exports and the steps; step 1 makes a PENDING GitLab connection', async () => {
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE']),
    )
    const create = commandAfter(out, '1. ')
    expect(create).toMatch(/^aws codestar-connections create-connection --provider-type GitLab /)
    arn = (JSON.parse(await runPrinted(create)) as { ConnectionArn: string }).ConnectionArn
    expect((await status(arn)).ConnectionStatus).toBe('PENDING')
  })

  it("step 2b completes it without a browser with the demo user's token file", async () => {
    const complete = commandAfter(out, '2b. ')
    const m =
      /^npx junction connections complete --connection-arn <arn> --namespace demo-team --token-file (\S+)$/.exec(
        complete,
      )
    expect(m).not.toBeNull()
    // Only its owner reads the token file.
    expect(statSync(m![1]!).mode & 0o077).toBe(0)
    await runPrinted(complete, arn)
    expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
  })

  it('step 2a completes another connection through the printed link, signed in as demo', async () => {
    const created = JSON.parse(
      await runPrinted(commandAfter(out, '1. ').replace('demo-gitlab', 'demo-gitlab-2')),
    ) as { ConnectionArn: string }
    const second = created.ConnectionArn
    const handshake = commandAfter(out, '2a. ')
    expect(handshake).toBe('npx junction connections handshake --connection-arn <arn>')
    const link = (await runPrinted(handshake, second)).trim()
    const b = new Browser()
    // Junction's one-time link sends the browser to the sandbox's consent page.
    const consent = await b.request(link)
    expect(consent.status, consent.html).toBe(200)
    expect(consent.url.startsWith(/Sandbox GitLab: (\S+)/.exec(out)![1]!)).toBe(true)
    const user = /user (\S+) \/ password (\S+),/.exec(out)!
    const form = consent.forms.find((x) => x.options.get('decision'))!
    const choice = await b.submit(form, {
      username: user[1]!,
      password: user[2]!,
      decision: 'grant',
    })
    expect(choice.status, choice.html).toBe(200)
    // As printed: choose demo-team.
    const pick = choice.forms[0]!
    expect(pick.options.get('choice')).toContain('target:demo-team')
    const done = await b.submit(pick, { choice: 'target:demo-team' })
    expect(done.status, done.html).toBe(200)
    expect((await status(second)).ConnectionStatus).toBe('AVAILABLE')
  })

  it('step 3 clones through the connection', async () => {
    const clone = commandAfter(out, '3. ')
    expect(clone).toMatch(/^git -c credential\.useHttpPath=true -c 'credential\.helper=!node /)
    await runPrinted(clone, arn, dir)
    expect(readFileSync(join(dir, 'hello', 'README.md'), 'utf8')).toContain('# hello')
  })

  it('step 4: a push starts the pipeline of the demo repository (trigger Webhook)', async () => {
    // As docs/demo.md and the README's pipeline walkthrough: a role, then the pipeline.
    await run(
      'aws',
      [
        'iam',
        'create-role',
        '--role-name',
        'demo-pipeline',
        '--assume-role-policy-document',
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codepipeline.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
      ],
      { env },
    )
    await run(
      'aws',
      [
        'iam',
        'put-role-policy',
        '--role-name',
        'demo-pipeline',
        '--policy-name',
        'use-connections',
        '--policy-document',
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codestar-connections:UseConnection","codestar-connections:GetConnectionToken"],"Resource":"*"}]}',
      ],
      { env },
    )
    const file = join(dir, 'pipeline.json')
    writeFileSync(
      file,
      JSON.stringify({
        pipeline: {
          name: 'hello',
          pipelineType: 'V2',
          executionMode: 'QUEUED',
          roleArn: 'arn:aws:iam::000000000000:role/demo-pipeline',
          artifactStore: { type: 'S3', location: 'local' },
          stages: [
            {
              name: 'Source',
              actions: [
                {
                  name: 'Source',
                  namespace: 'SourceVariables',
                  actionTypeId: {
                    category: 'Source',
                    owner: 'AWS',
                    provider: 'CodeStarSourceConnection',
                    version: '1',
                  },
                  configuration: {
                    ConnectionArn: arn,
                    FullRepositoryId: 'demo-team/hello',
                    BranchName: 'main',
                  },
                  outputArtifacts: [{ name: 'SourceArtifact' }],
                },
              ],
            },
            {
              name: 'Build',
              actions: [
                {
                  name: 'Build',
                  actionTypeId: {
                    category: 'Compute',
                    owner: 'AWS',
                    provider: 'Commands',
                    version: '1',
                  },
                  inputArtifacts: [{ name: 'SourceArtifact' }],
                  commands: ['cat README.md'],
                },
              ],
            },
          ],
        },
      }),
    )
    await run('aws', ['codepipeline', 'create-pipeline', '--cli-input-json', `file://${file}`], {
      env,
    })
    // The printed commit and `git push` (with the demo's personal access token), in the clone.
    const lines = out.split('\n')
    const step4 = lines.slice(lines.findIndex((l) => l.startsWith('4. ')))
    const gits = step4.map((l) => l.trim()).filter((l) => l.startsWith('git -C hello '))
    expect(gits).toHaveLength(2)
    expect(gits[0]).toMatch(/ commit --allow-empty -m 'Say more'$/)
    expect(gits[1]).toMatch(
      / push http:\/\/demo:glpat-[\w-]+@\S+\/demo-team\/hello\.git HEAD:main$/,
    )
    await runPrinted(gits[0]!, undefined, dir)
    await runPrinted(gits[1]!, undefined, dir)
    const pushed = {
      sha: (
        await run('git', ['-C', join(dir, 'hello'), 'rev-parse', 'HEAD'], { env })
      ).stdout.trim(),
    }
    type X = {
      pipelineExecutionId: string
      trigger: { triggerType: string }
      sourceRevisions: { revisionId: string }[]
    }
    const execution = await waitFor(
      'the execution the push started',
      async () => {
        const r = JSON.parse(
          (
            await run(
              'aws',
              ['codepipeline', 'list-pipeline-executions', '--pipeline-name', 'hello'],
              { env },
            )
          ).stdout,
        ) as { pipelineExecutionSummaries: X[] }
        return r.pipelineExecutionSummaries.find((x) => x.trigger.triggerType === 'Webhook')
      },
      60_000,
    )
    expect(execution.sourceRevisions[0]!.revisionId).toBe(pushed.sha)
  })
})
