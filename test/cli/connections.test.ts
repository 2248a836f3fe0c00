/**
 * The newcomer's path, as README.md and docs/getting-started.md tell it, with the built `junction` binary: `junction demo`
 * (a seeded sandbox and a Junction), the AWS CLI to create a connection, `junction connections
 * complete` or `junction connections handshake` to finish it, and `git clone` through the
 * `junction git-credential` helper.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Browser } from '../helpers/browser.js'
import { BIN } from '../helpers/process.js'

const run = promisify(execFile)

function junction(args: string[], o: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(o.stdin ?? '')
  })
}

describe('junction demo, connections complete/handshake and git-credential', () => {
  let demo: ChildProcess
  let dir: string
  let junctionUrl: string
  let sandboxUrl: string
  let token: string
  let output = ''
  let arn: string
  const client = () => ['--data-dir', join(dir, '.junction-demo'), '--endpoint-url', junctionUrl]
  /** The AWS CLI with the demo's root credentials; returns the parsed JSON answer. */
  const aws = async (...args: string[]) => {
    const env = {
      ...process.env,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, '.junction-demo', 'credentials'),
      AWS_CONFIG_FILE: '/dev/null',
    }
    const common = ['--profile', 'junction', '--region', 'us-east-1', '--endpoint-url', junctionUrl]
    const r = await run('aws', [...common, 'codestar-connections', ...args, '--output', 'json'], {
      env,
    })
    return JSON.parse(r.stdout) as Record<string, unknown>
  }
  /** Any AWS CLI command with the demo's root credentials (JSON answer, or {} when empty). */
  const awsCli = async (...args: string[]) => {
    const env = {
      ...process.env,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, '.junction-demo', 'credentials'),
      AWS_CONFIG_FILE: '/dev/null',
    }
    const common = ['--profile', 'junction', '--region', 'us-east-1', '--endpoint-url', junctionUrl]
    const r = await run('aws', [...common, ...args, '--output', 'json'], { env })
    return (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as Record<string, unknown>
  }
  const createConnection = async (name: string) =>
    String(
      (await aws('create-connection', '--provider-type', 'Bitbucket', '--connection-name', name))[
        'ConnectionArn'
      ],
    )

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-demo-'))
    demo = spawn(
      process.execPath,
      [
        BIN,
        'demo',
        '--port',
        '0',
        '--sandbox-port',
        '0',
        '--data-dir',
        join(dir, '.junction-demo'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    demo.stdout!.on('data', () => undefined)
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()))
    for (let i = 0; i < 300 && !output.includes('3. Clone'); i++)
      await new Promise((r) => setTimeout(r, 50))
    junctionUrl = /Junction: +(http:\/\/\S+)/.exec(output)![1]!
    sandboxUrl = /Sandbox Bitbucket: +(http:\/\/\S+)/.exec(output)![1]!
    token = /echo (\S+) \|/.exec(output)![1]!
  })
  afterAll(async () => {
    demo?.kill('SIGTERM')
    await new Promise((r) => demo?.once('exit', r))
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs the README tour and the demo walkthrough of docs/getting-started.md as written', async () => {
    const repo = join(import.meta.dirname, '..', '..')
    const block = (file: string, marker: string, starts: string) => {
      const text = readFileSync(join(repo, file), 'utf8')
      const from = text.slice(text.indexOf(marker))
      return [...from.matchAll(/```sh\n([\s\S]*?)```/g)]
        .map((m) => m[1]!)
        .find((b) => b.startsWith(starts))!
    }
    const tour = block('README.md', '## A five-minute tour', 'export AWS_CONFIG_FILE')
    const walk = block('docs/getting-started.md', '## Try it offline', '# The three lines')
    // What a reader fills in, or has where this test has something else: the ARN from the
    // answer, the printed token, Junction's folder (npx, $PWD/dist), the demo's ports (random).
    const filled: [RegExp | string, string][] = [
      [
        /^ARN=arn:.*# from the answer$/gm,
        `ARN=$(aws codestar-connections list-connections --query "Connections[?ConnectionName=='demo'].ConnectionArn" --output text)`,
      ],
      ['<token>', token],
      ['npx junction ', `"${process.execPath}" "${BIN}" `],
      ['$PWD/dist/cli/main.js', BIN],
      ['http://127.0.0.1:7990', sandboxUrl],
    ]
    let script = walk
    for (const [from, to] of filled) {
      expect(
        typeof from === 'string' ? script.includes(from) : script.search(from) >= 0,
        String(from),
      ).toBe(true)
      script = script.replaceAll(from, to)
    }
    // In a folder of its own whose .junction-demo is the demo's (the clone lands there).
    const cwd = join(dir, 'tour')
    mkdirSync(cwd)
    symlinkSync(join(dir, '.junction-demo'), join(cwd, '.junction-demo'))
    const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' }
    for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k]
    const sh = (text: string) => run('bash', ['-c', `set -e\n${text}`], { cwd, env })
    expect(JSON.parse((await sh(tour)).stdout)).toEqual({ Connections: [] })
    const walked = await sh(script)
    expect(walked.stdout).toContain('"ConnectionStatus": "AVAILABLE"')
    expect(walked.stdout).toMatch(/\/oauth\/bitbucket\/begin\?t=/)
    expect(readdirSync(join(cwd, 'hello')).sort()).toEqual(['.git', 'README.md', 'src'])
    // The connection named demo is the next test's to create.
    await sh(
      `${tour}\naws codestar-connections delete-connection --connection-arn $(aws codestar-connections list-connections --query "Connections[0].ConnectionArn" --output text)`,
    )
  }, 120_000)

  it('creates a PENDING connection with the AWS CLI and completes it with junction connections complete', async () => {
    arn = await createConnection('demo')
    const done = await junction(
      ['connections', 'complete', ...client(), '--connection-arn', arn, '--workspace', 'demo-team'],
      { stdin: `${token}\n` },
    )
    expect(done.stderr).toBe('')
    expect(done.code).toBe(0)
    expect(done.stdout).toMatch(
      /^demo is AVAILABLE \(workspace demo-team, installation [0-9a-f-]{36}\)\n$/,
    )
    expect(await aws('get-connection', '--connection-arn', arn)).toMatchObject({
      Connection: { ConnectionStatus: 'AVAILABLE', OwnerAccountId: '000000000000' },
    })
  })

  it('clones through the connection with the git credential helper', async () => {
    const helper = `!"${process.execPath}" "${BIN}" git-credential ${client().join(' ')} --connection-arn ${arn}`
    await run(
      'git',
      [
        '-c',
        'credential.useHttpPath=true',
        '-c',
        `credential.helper=${helper}`,
        'clone',
        '-q',
        `${sandboxUrl}/demo-team/hello.git`,
        join(dir, 'hello'),
      ],
      {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      },
    )
    expect(readdirSync(join(dir, 'hello')).sort()).toEqual(['.git', 'README.md', 'src'])
    // Without useHttpPath git sends no repository: the helper says how to fix it.
    const noPath = await junction(['git-credential', ...client(), '--connection-arn', arn, 'get'], {
      stdin: `protocol=http\nhost=${new URL(sandboxUrl).host}\n\n`,
    })
    expect(noPath.code).toBe(2)
    expect(noPath.stderr).toMatch(/credential.useHttpPath true/)
    // A repository outside the workspace is refused with the reason.
    const outside = await junction(
      ['git-credential', ...client(), '--connection-arn', arn, 'get'],
      { stdin: 'protocol=http\nhost=x\npath=other/repo.git\n\n' },
    )
    expect(outside.code).toBe(1)
    expect(outside.stderr).toMatch(
      /AccessDeniedException: .*reaches only repositories of the Bitbucket workspace demo-team/,
    )
    expect(
      (await junction(['git-credential', ...client(), '--connection-arn', arn, 'store'])).code,
    ).toBe(0)
  })

  it('runs the pipeline walkthrough of docs/pipelines.md: a git push starts the pipeline, the build log shows it', async () => {
    await awsCli(
      'iam',
      'create-role',
      '--role-name',
      'demo-pipeline',
      '--assume-role-policy-document',
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codepipeline.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )
    await awsCli(
      'iam',
      'put-role-policy',
      '--role-name',
      'demo-pipeline',
      '--policy-name',
      'use-connections',
      '--policy-document',
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codestar-connections:UseConnection","codestar-connections:GetConnectionToken"],"Resource":"*"}]}',
    )
    // pipeline.json exactly as docs/pipelines.md writes it, with the connection's ARN.
    const page = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'pipelines.md'), 'utf8')
    const json = /cat > pipeline.json <<EOF\n([\s\S]*?)\nEOF/.exec(page)![1]!.replace('$ARN', arn)
    const file = join(dir, 'pipeline.json')
    writeFileSync(file, json)
    await awsCli('codepipeline', 'create-pipeline', '--cli-input-json', `file://${file}`)
    const clone = join(dir, 'hello')
    writeFileSync(join(clone, 'README.md'), 'change\n', { flag: 'a' })
    const git = (...a: string[]) =>
      run('git', ['-C', clone, '-c', 'user.name=Demo', '-c', 'user.email=demo@example.com', ...a], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      })
    await git('commit', '-qam', 'Say more')
    const head = (await git('rev-parse', 'HEAD')).stdout.trim()
    await git(
      'push',
      '-q',
      `http://demo:demo@${new URL(sandboxUrl).host}/demo-team/hello.git`,
      'main',
    )
    let run1: { pipelineExecutionId: string; status: string } | undefined
    for (let i = 0; i < 200 && run1?.status !== 'Succeeded'; i++) {
      const list = (await awsCli(
        'codepipeline',
        'list-pipeline-executions',
        '--pipeline-name',
        'hello',
      )) as {
        pipelineExecutionSummaries: {
          pipelineExecutionId: string
          status: string
          trigger: { triggerType: string }
          sourceRevisions?: { revisionId: string }[]
        }[]
      }
      run1 = list.pipelineExecutionSummaries.find(
        (e) => e.trigger.triggerType === 'Webhook' && e.sourceRevisions?.[0]?.revisionId === head,
      )
      if (run1?.status === 'Failed') throw new Error(JSON.stringify(run1))
      if (run1?.status !== 'Succeeded') await new Promise((r) => setTimeout(r, 100))
    }
    expect(run1?.status).toBe('Succeeded')
    const actions = (await awsCli(
      'codepipeline',
      'list-action-executions',
      '--pipeline-name',
      'hello',
      '--filter',
      `pipelineExecutionId=${run1!.pipelineExecutionId}`,
    )) as {
      actionExecutionDetails: {
        actionName: string
        output: { executionResult?: { externalExecutionUrl?: string } }
      }[]
    }
    const build = actions.actionExecutionDetails.find((a) => a.actionName === 'Build')!
    const log = await (await fetch(build.output.executionResult!.externalExecutionUrl!)).text()
    expect(log).toContain(`built ${head}: Say more`)
    expect(log).toContain('README.md')
  }, 120_000)

  it('prints a consent URL with junction connections handshake that a browser completes', async () => {
    const second = await createConnection('browser')
    const r = await junction(['connections', 'handshake', ...client(), '--connection-arn', second])
    expect(r.code).toBe(0)
    const url = r.stdout.trim()
    expect(url.startsWith(`${junctionUrl}/oauth/bitbucket/begin?t=`)).toBe(true)
    expect(r.stderr).toMatch(/do not forward it/)
    const b = new Browser()
    const consent = await b.request(url)
    expect(
      consent.url.startsWith(
        `${sandboxUrl}/site/oauth2/authorize?client_id=junction&response_type=code&state=`,
      ),
    ).toBe(true)
    const choice = await b.submit(consent.forms[0]!, {
      username: 'demo',
      password: 'demo',
      decision: 'grant',
    })
    expect(choice.url.startsWith(`${junctionUrl}/oauth/bitbucket/callback`)).toBe(true)
    const installation = choice.forms[0]!.options.get('choice')!.find((o) =>
      o.startsWith('installation:'),
    )!
    const done = await b.submit(choice.forms[0]!, { choice: installation })
    expect(done.html).toContain('is <strong>AVAILABLE</strong>')
  })

  it('completes with a repository access token (--token-type repository) and explains a kind without what it needs', async () => {
    const made = await fetch(`${sandboxUrl}/_sandbox/access-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: 'demo-team', repository: 'hello' }),
    })
    const repoToken = ((await made.json()) as { token: string }).token
    const narrow = await createConnection('demo-hello')
    const base = ['connections', 'complete', ...client(), '--connection-arn', narrow]
    const done = await junction(
      [...base, '--workspace', 'demo-team', '--token-type', 'repository', '--repository', 'hello'],
      { stdin: `${repoToken}\n` },
    )
    expect(done.stderr).toBe('')
    expect(done.stdout).toMatch(
      /^demo-hello is AVAILABLE \(repository demo-team\/hello, installation [0-9a-f-]{36}:repository:hello\)\n$/,
    )
    const noEmail = await junction(
      [...base, '--workspace', 'demo-team', '--token-type', 'api-token'],
      {
        stdin: 'some-api-token\n',
      },
    )
    expect(noEmail.code).toBe(1)
    expect(noEmail.stderr).toMatch(/^junction: InvalidInputException: .*Email/)
    expect(noEmail.stderr).not.toContain('some-api-token')
    const unknown = await junction(
      [...base, '--workspace', 'demo-team', '--token-type', 'app-password'],
      {
        stdin: 'x\n',
      },
    )
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(
      /--token-type must be one of workspace, project, repository, api-token, oauth/,
    )
  })

  it('reports bad input in one line with exit codes 2 (usage) and 1 (refused)', async () => {
    const missing = await junction(['connections', 'complete', ...client()])
    expect(missing).toMatchObject({ code: 2, stderr: 'junction: --connection-arn is required\n' })
    const refused = await junction(
      ['connections', 'complete', ...client(), '--connection-arn', arn, '--workspace', 'demo-team'],
      { stdin: 'wrong-token\n' },
    )
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /^junction: ResourceUnavailableException: .*refused the credential/,
    )
    expect(refused.stderr).not.toContain('wrong-token')
    const unknown = await junction(['connections', 'frobnicate'])
    expect(unknown.code).toBe(2)
    const noCreds = await junction(
      [
        'connections',
        'handshake',
        '--endpoint-url',
        junctionUrl,
        '--connection-arn',
        arn,
        '--profile',
        'nobody',
      ],
      { env: { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') } },
    )
    expect(noCreds.code).toBe(2)
    expect(noCreds.stderr).toMatch(/No credentials/)
  })
})

describe('junction sandbox bitbucket', () => {
  it('starts, seeds and prints the junction serve flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-sbx-cli-'))
    const child = spawn(
      process.execPath,
      [BIN, 'sandbox', 'bitbucket', '--port', '0', '--seed', '--data-dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    try {
      for (let i = 0; i < 200 && !out.includes('junction serve'); i++)
        await new Promise((r) => setTimeout(r, 50))
      const url = /Bitbucket sandbox at (http:\/\/\S+)/.exec(out)![1]!
      expect(out).toMatch(
        new RegExp(
          `JUNCTION_BITBUCKET_CLIENT_SECRET=\\S+ junction serve --bitbucket-url ${url} --bitbucket-client-id junction`,
        ),
      )
      expect(out).toContain(
        'Seeded: user demo (password demo), workspace demo-team, repository demo-team/hello',
      )
      const index = (await (await fetch(`${url}/_sandbox`)).json()) as { endpoints: string[] }
      expect(index.endpoints.length).toBeGreaterThan(10)
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
