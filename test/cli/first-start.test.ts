/**
 * First start (issue 15 item 1): beside `credentials` Junction writes an AWS `config` file whose
 * profile `junction` carries the region and the API endpoint, and prints three `export` lines
 * with which the real AWS CLI (and the JavaScript SDK) reach Junction with no flags — with the
 * root key, and with an IAM user's keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, where the
 * README's examples used to fail with "You must specify a region".
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import {
  awsClientSetup,
  ensureAwsConfig,
  exportLines,
  readProfile,
} from '../../src/bootstrap/aws-config.js'
import { itWith, needs } from '../helpers/requirements.js'
import { spawnServe, type ServeProcess } from '../helpers/process.js'

const run = promisify(execFile)
const repo = join(import.meta.dirname, '..', '..')
const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'junction-first-start-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('the AWS config file', () => {
  const opts = (dataDir: string, endpointUrl = 'http://127.0.0.1:4599') => ({
    dataDir,
    region: 'eu-west-1',
    endpointUrl,
  })

  it('is written with mode 0600 and profile junction: region, endpoint_url, cli_follow_urlparam', () => {
    const dir = tempDir()
    expect(ensureAwsConfig(opts(dir))).toEqual({
      path: join(dir, 'config'),
      action: 'created',
      differs: [],
    })
    expect(statSync(join(dir, 'config')).mode & 0o777).toBe(0o600)
    expect(readProfile(readFileSync(join(dir, 'config'), 'utf8'))).toEqual({
      region: 'eu-west-1',
      endpoint_url: 'http://127.0.0.1:4599',
      cli_follow_urlparam: 'false',
    })
  })

  it('is rewritten for a new endpoint only while unedited, and kept as is once edited', () => {
    const dir = tempDir()
    const file = join(dir, 'config')
    ensureAwsConfig(opts(dir))
    const first = readFileSync(file, 'utf8')
    expect(ensureAwsConfig(opts(dir)).action).toBe('kept')
    expect(readFileSync(file, 'utf8')).toBe(first)

    expect(ensureAwsConfig(opts(dir, 'http://127.0.0.1:4600')).action).toBe('updated')
    expect(readProfile(readFileSync(file, 'utf8'))!['endpoint_url']).toBe('http://127.0.0.1:4600')

    // The user adds a key: the file is theirs now.
    const edited = readFileSync(file, 'utf8') + 'output = table\n'
    writeFileSync(file, edited)
    expect(ensureAwsConfig(opts(dir, 'http://127.0.0.1:4601'))).toEqual({
      path: file,
      action: 'kept',
      differs: [
        {
          key: 'endpoint_url',
          found: 'http://127.0.0.1:4600',
          expected: 'http://127.0.0.1:4601',
        },
      ],
    })
    expect(readFileSync(file, 'utf8')).toBe(edited)
    const said = awsClientSetup({
      ...opts(dir, 'http://127.0.0.1:4601'),
      root: { source: join(dir, 'credentials'), created: false },
    })
    expect(said.notes).toEqual([
      `Warning: ${file} (edited, so Junction leaves it) sets endpoint_url = http://127.0.0.1:4600 in profile junction; this Junction's is http://127.0.0.1:4601. Edit that line, or delete the file to have it written again.`,
    ])
  })

  it('gets profile junction appended when a file of the user’s lacks it, other profiles untouched; a loose mode is tightened', () => {
    const dir = tempDir()
    const file = join(dir, 'config')
    writeFileSync(file, '[default]\nregion = us-west-2\n')
    chmodSync(file, 0o644)
    expect(ensureAwsConfig(opts(dir)).action).toBe('appended')
    const text = readFileSync(file, 'utf8')
    expect(text.startsWith('[default]\nregion = us-west-2\n\n[profile junction]\n')).toBe(true)
    expect(readProfile(text)!['region']).toBe('eu-west-1')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(ensureAwsConfig(opts(dir)).action).toBe('kept')
    expect(readFileSync(file, 'utf8')).toBe(text)
  })

  it('prints export lines that a shell reads back as the same paths', async () => {
    const lines = exportLines("/tmp/my data/it's/config", '/tmp/plain/credentials')
    expect(lines).toEqual([
      `export AWS_CONFIG_FILE='/tmp/my data/it'\\''s/config'`,
      'export AWS_SHARED_CREDENTIALS_FILE=/tmp/plain/credentials',
      'export AWS_PROFILE=junction',
    ])
    const { stdout } = await run('sh', [
      '-c',
      `${lines.join('\n')}\nprintf '%s|%s|%s' "$AWS_CONFIG_FILE" "$AWS_SHARED_CREDENTIALS_FILE" "$AWS_PROFILE"`,
    ])
    expect(stdout).toBe("/tmp/my data/it's/config|/tmp/plain/credentials|junction")
    // Root credentials from the environment: no credentials file to point at.
    expect(exportLines('/d/config', undefined)).toEqual([
      'export AWS_CONFIG_FILE=/d/config',
      'export AWS_PROFILE=junction',
    ])
  })
})

/** Resolves once the server's stderr contains `text` (it is written right after listening). */
async function stderrWith(p: ServeProcess, text: string): Promise<string> {
  if (!p.stderr().includes(text))
    await new Promise<void>((resolveSeen, reject) => {
      const check = () => {
        if (!p.stderr().includes(text)) return
        p.child.stderr!.off('data', check)
        resolveSeen()
      }
      p.child.stderr!.on('data', check)
      void p.exited.then(() => reject(new Error(`exited before printing ${text}`)))
    })
  return p.stderr()
}

/** The environment the printed `export` lines make, with nothing else AWS-related. */
function exportedEnv(stderr: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: tempDir(), // no ~/.aws of the machine's
    AWS_PAGER: '',
  }
  for (const m of stderr.matchAll(/^ {2}export (AWS_[A-Z_]+)=(\S+)$/gm)) env[m[1]!] = m[2]
  return env
}

describe('junction serve, first start', () => {
  it('prints the three export lines; the AWS JavaScript SDK reaches Junction with them and no endpoint or region', async () => {
    const dataDir = tempDir()
    const p = await spawnServe(['--data-dir', dataDir])
    try {
      const stderr = await stderrWith(p, 'export AWS_PROFILE=junction')
      expect(stderr).toContain(`Root credentials written to ${join(dataDir, 'credentials')}`)
      expect(stderr).toContain(
        `  export AWS_CONFIG_FILE=${join(dataDir, 'config')}\n` +
          `  export AWS_SHARED_CREDENTIALS_FILE=${join(dataDir, 'credentials')}\n` +
          '  export AWS_PROFILE=junction\n',
      )
      expect(statSync(join(dataDir, 'config')).mode & 0o777).toBe(0o600)
      expect(readProfile(readFileSync(join(dataDir, 'config'), 'utf8'))).toMatchObject({
        region: 'us-east-1',
        endpoint_url: p.url,
      })
      const sdk = `
        import { CodeStarConnectionsClient, CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
        const c = new CodeStarConnectionsClient({})
        const r = await c.send(new CreateConnectionCommand({ ConnectionName: 'sdk', ProviderType: 'Bitbucket' }))
        process.stdout.write(r.ConnectionArn)`
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', sdk], {
        cwd: repo,
        env: exportedEnv(stderr),
      })
      expect(stdout).toMatch(/^arn:aws:codestar-connections:us-east-1:000000000000:connection\//)
    } finally {
      p.child.kill('SIGTERM')
      await p.exited
    }
  }, 120_000)

  it('rewrites its unedited config for the port of the next start', async () => {
    const dataDir = tempDir()
    const first = await spawnServe(['--data-dir', dataDir])
    await stderrWith(first, 'export AWS_PROFILE')
    first.child.kill('SIGTERM')
    await first.exited
    const second = await spawnServe(['--data-dir', dataDir])
    try {
      const stderr = await stderrWith(second, 'export AWS_PROFILE')
      expect(stderr).not.toContain('Root credentials written')
      expect(stderr).toContain(`AWS config written to ${join(dataDir, 'config')}`)
      expect(readProfile(readFileSync(join(dataDir, 'config'), 'utf8'))!['endpoint_url']).toBe(
        second.url,
      )
    } finally {
      second.child.kill('SIGTERM')
      await second.exited
    }
  }, 120_000)

  itWith(needs.aws)(
    'the first start of docs/getting-started.md and the IAM walkthrough of docs/iam.md run as written with the AWS CLI: root from the profile, the user’s keys from the environment',
    async () => {
      // Junction's folder, as docs/getting-started.md has it: the data directory is ./.junction.
      const folder = tempDir()
      const dataDir = join(folder, '.junction')
      const p = await spawnServe(['--data-dir', dataDir])
      try {
        const env = exportedEnv(await stderrWith(p, 'export AWS_PROFILE=junction'))
        // The first-start block of docs/getting-started.md, as written, in that folder.
        const started = readFileSync(join(repo, 'docs', 'getting-started.md'), 'utf8')
        const firstStart = /```sh\n(export AWS_CONFIG_FILE=[\s\S]*?)```/.exec(started)![1]!
        const clean: NodeJS.ProcessEnv = { ...process.env }
        for (const k of Object.keys(clean)) if (k.startsWith('AWS_')) delete clean[k]
        const listed = await run('bash', ['-c', `set -e\n${firstStart}`], {
          cwd: folder,
          env: clean,
        })
        expect(JSON.parse(listed.stdout)).toEqual({ Connections: [] })
        const sh = (script: string, extra: NodeJS.ProcessEnv = {}) =>
          run('bash', ['-c', script], { env: { ...env, ...extra }, cwd: dataDir }).then(
            (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
            (e: { code: number; stdout: string; stderr: string }) => ({
              code: e.code,
              out: e.stdout,
              err: e.stderr,
            }),
          )
        // No flags at all, with the root key from the profile.
        expect(await sh('aws codestar-connections list-connections')).toMatchObject({ code: 0 })

        const iamPage = readFileSync(join(repo, 'docs', 'iam.md'), 'utf8')
        const section = iamPage.slice(iamPage.indexOf('## A least-privilege walkthrough'))
        const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!
        const [asRoot, asUser] = block.split(/^# as the user.*$/m) as [string, string]
        const root = await sh(`set -e\n${asRoot}`)
        expect(root.err).toBe('')
        const keyId = /"AccessKeyId": "(\w+)"/.exec(root.out)![1]
        const secret = /"SecretAccessKey": "([^"]+)"/.exec(root.out)![1]
        const userEnv = { UK: keyId, US: secret }
        const commands = asUser
          .replace(/\\\n/g, ' ')
          .split('\n')
          .filter((l) => l.trim())
          .map((l) =>
            l
              .replace('AWS_ACCESS_KEY_ID=…', 'AWS_ACCESS_KEY_ID=$UK')
              .replace('AWS_SECRET_ACCESS_KEY=…', 'AWS_SECRET_ACCESS_KEY=$US'),
          )
        expect(commands).toHaveLength(3)
        const allowed = await sh(commands[0]!, userEnv)
        expect(allowed).toMatchObject({ code: 0, err: '' })
        expect(allowed.out).toContain('"ConnectionArn": "arn:aws:codestar-connections:us-east-1:')
        const denied = await sh(commands[1]!, userEnv)
        expect(denied.code).not.toBe(0)
        expect(denied.err).toContain('AccessDeniedException')
        expect(denied.err).not.toContain('You must specify a region')
        const who = await sh(commands[2]!, userEnv)
        expect(who).toMatchObject({ code: 0, err: '' })
        expect(who.out).toContain('"Arn": "arn:aws:iam::000000000000:user/payments-ci"')

        // The role-session example that follows, as written.
        const roles = iamPage.slice(iamPage.indexOf('## Role sessions'))
        const rolesBlock = /```sh\n([\s\S]*?)```/
          .exec(roles)![1]!
          .replace('AWS_ACCESS_KEY_ID=…', 'AWS_ACCESS_KEY_ID=$UK')
          .replace('AWS_SECRET_ACCESS_KEY=…', 'AWS_SECRET_ACCESS_KEY=$US')
        const session = await sh(`set -e\n${rolesBlock}`, userEnv)
        expect(session).toMatchObject({ code: 0, err: '' })
        expect(session.out).toContain('assumed-role/pipeline/build-1')
      } finally {
        p.child.kill('SIGTERM')
        await p.exited
      }
    },
    240_000,
  )
})
