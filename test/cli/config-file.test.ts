/**
 * `junction serve --config junction.yaml` and `junction config check` from dist (issue 15 item 7):
 * defaults < file < environment < flags seen on a running server (the port it listens on, the
 * region and account in the ARNs it makes), secrets read from files in the file and the
 * environment (a GitHub App webhook verified with them), refusals naming the file's line with
 * nothing created, `config check` with secrets redacted, and docs/configuration.md as written.
 */
import { spawn } from 'node:child_process'
import { createHmac, randomUUID } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, describe, expect, it } from 'vitest'
import { readCredentialsFile } from '../../src/bootstrap/root-credentials.js'
import { SETTINGS } from '../../src/config/keys.js'
import { sdkClient } from '../helpers/client.js'
import { BIN } from '../helpers/process.js'

const ROOT = join(import.meta.dirname, '..', '..')
const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'junction-config-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const baseEnv = () => ({ PATH: process.env['PATH'], HOME: process.env['HOME'] })

/** Runs the bin to its end with exactly this environment (nothing inherited but PATH and HOME). */
function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = ROOT,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...baseEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => done({ code, stdout, stderr }))
  })
}

/** Starts `junction serve` with only these arguments (no --port of the helpers' own). */
async function serve(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    cwd: tempDir(),
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const url = await new Promise<string>((resolveUrl, reject) => {
    const check = () => {
      const line = out.split('\n').find((l) => l.includes('junction is listening'))
      if (line) resolveUrl((JSON.parse(line) as { url: string }).url)
    }
    child.stdout.on('data', check)
    void exited.then((code) => reject(new Error(`junction exited with ${code}:\n${out}\n${err}`)))
  })
  const stop = async () => {
    child.kill('SIGTERM')
    return exited
  }
  return { url, stop, output: () => out + err, stderr: () => err }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolvePort(port))
    })
  })
}

function writeFile(path: string, text: string, mode = 0o600): string {
  writeFileSync(path, text)
  chmodSync(path, mode)
  return path
}

/** A table row of `config check`, whitespace folded. */
const rows = (stdout: string) => stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))

describe('junction serve --config', () => {
  it('takes the file, lets the environment override it and flags override both, on a running server', async () => {
    const dir = tempDir()
    const port = await freePort()
    const file = writeFile(
      join(dir, 'junction.yaml'),
      [
        '# precedence: file < env < flag',
        `port: ${port}`,
        `data-dir: ${join(dir, 'data')}`,
        'region: eu-west-1',
        'account-id: 111111111111',
        'log-format: json',
      ].join('\n'),
    )
    const s = await serve(['--config', file, '--account-id', '333333333333'], {
      JUNCTION_REGION: 'eu-central-1',
      JUNCTION_ACCOUNT_ID: '222222222222',
    })
    try {
      // The port only the file names; the region the environment overrides; the account the flag does.
      expect(s.url).toBe(`http://127.0.0.1:${port}`)
      const creds = readCredentialsFile(join(dir, 'data', 'credentials'))!
      const sdk = sdkClient(s.url, creds, 'eu-central-1')
      const { ConnectionArn } = await sdk.send(
        new CreateConnectionCommand({ ConnectionName: 'layers', ProviderType: 'Bitbucket' }),
      )
      sdk.destroy()
      expect(ConnectionArn).toMatch(
        /^arn:aws:codestar-connections:eu-central-1:333333333333:connection\//,
      )
    } finally {
      expect(await s.stop()).toBe(0)
    }
  }, 120_000)

  it('reads secrets from <key>-file in the file and <ENV>_FILE in the environment, the environment winning', async () => {
    const dir = tempDir()
    const clientSecret = `client-${randomUUID()}`
    const inlineHookSecret = `inline-${randomUUID()}`
    const hookSecret = `hook-${randomUUID()}`
    const clientSecretFile = writeFile(join(dir, 'client-secret'), `${clientSecret}\n`)
    // World-readable, as a container platform might mount it: used, with a warning.
    const hookSecretFile = writeFile(join(dir, 'hook-secret'), `${hookSecret}\n`, 0o644)
    const file = writeFile(
      join(dir, 'junction.yaml'),
      [
        `data-dir: ${join(dir, 'data')}`,
        'port: 0',
        'github-client-id: Iv1.configtest',
        `github-client-secret-file: ${clientSecretFile}`,
        `github-webhook-secret: ${inlineHookSecret}`,
      ].join('\n'),
      0o644,
    )
    const s = await serve(['--config', file], {
      JUNCTION_GITHUB_WEBHOOK_SECRET_FILE: hookSecretFile,
    })
    try {
      const ping = (secret: string) => {
        const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 })
        return fetch(`${s.url}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'ping',
            'x-github-delivery': randomUUID(),
            'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          },
          body,
        })
      }
      // The app exists (client id and the secret read from its file) and verifies with the
      // environment's file, read without its trailing newline; the file's own value lost.
      expect((await ping(hookSecret)).status).toBe(200)
      expect((await ping(inlineHookSecret)).status).toBe(401)
      expect((await ping(`${hookSecret}\n`)).status).toBe(401)
    } finally {
      expect(await s.stop()).toBe(0)
    }
    expect(s.stderr()).toContain(
      `warning: JUNCTION_GITHUB_WEBHOOK_SECRET_FILE ${hookSecretFile} is a secret every user may read (mode 0644)`,
    )
    expect(s.stderr()).toContain(
      `warning: ${file} holds secrets (github-webhook-secret) and every user may read it (mode 0644)`,
    )
    for (const secret of [clientSecret, inlineHookSecret, hookSecret])
      expect(s.output()).not.toContain(secret)
  }, 120_000)

  it('refuses what it does not understand with the line, exit 2 and nothing created', async () => {
    const dir = tempDir()
    const data = join(dir, 'data')
    const cases: [string[], NodeJS.ProcessEnv, (f: string) => string][] = [
      [
        ['# a typo', `data-dir: ${data}`, 'prot: 4600'],
        {},
        (f) => `${f}:3: unknown key 'prot' (did you mean 'port'?)`,
      ],
      [
        [`data-dir: ${data}`, 'port: 4600', 'region: eu-west-1', 'port: 4601'],
        {},
        (f) => `${f}:4: duplicate key 'port' (first on line 2)`,
      ],
      [
        [`data-dir: ${data}`, 'metrics: yes'],
        {},
        (f) => `${f}:2: metrics must be true or false, got 'yes'`,
      ],
      [
        [`data-dir: ${data}`, 'port: 70000'],
        {},
        (f) => `${f}:2: port must be an integer from 0 to 65535, got '70000'`,
      ],
      [[`data-dir: ${data}`, 'port:'], {}, (f) => `${f}:2: port has no value`],
      [[`data-dir: ${data}`, 'github:', '  app-id: 1'], {}, (f) => `${f}:2: unknown key 'github'`],
      [
        [`data-dir: ${data}`, 'github-client-secret-file: /nonexistent/secret'],
        {},
        (f) => `${f}:2: cannot read github-client-secret-file /nonexistent/secret: ENOENT`,
      ],
      [
        [`data-dir: ${data}`, 'database: x.db', 'database-file: y'],
        {},
        (f) => `${f}:3: give database or database-file, not both`,
      ],
      [
        [`data-dir: ${data}`, 'port: 4600'],
        { JUNCTION_PORT: 'http' },
        () => `JUNCTION_PORT: port must be an integer from 0 to 65535, got 'http'`,
      ],
    ]
    for (const [lines, env, expected] of cases) {
      const file = writeFile(join(dir, 'junction.yaml'), lines.join('\n'))
      const r = await run(['serve', '--config', file], env, dir)
      expect(r.stderr).toContain(`junction: ${expected(file)}`)
      expect(r.code).toBe(2)
      // No data directory, so no master key and no credentials.
      expect(existsSync(data)).toBe(false)
    }
  }, 300_000)
})

describe('junction config check', () => {
  it('prints every setting with its value and source, secrets redacted', async () => {
    const dir = tempDir()
    const password = `pw-${randomUUID()}`
    const clientSecret = `client-${randomUUID()}`
    const secretFile = writeFile(join(dir, 'client-secret'), `${clientSecret}\n`)
    const file = writeFile(
      join(dir, 'junction.yaml'),
      [
        `database: postgres://junction:${password}@db.example.com/junction`,
        'github-client-id: Iv1.check',
        `github-client-secret-file: ${secretFile}`,
        `data-dir: ${join(dir, 'data')}`,
        'log-level: info',
      ].join('\n'),
    )
    const r = await run(['config', 'check', '--config', file, '--port', '8080'], {
      JUNCTION_LOG_LEVEL: 'debug',
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = rows(r.stdout)
    expect(lines[0]).toBe(`${file}: valid (precedence: flag > env > file > default)`)
    expect(lines).toContain(
      `database postgres://junction:***@db.example.com/junction file ${file}:1`,
    )
    expect(lines).toContain(
      `github-client-secret (secret, redacted) file ${file}:3 github-client-secret-file (read from ${secretFile})`,
    )
    expect(lines).toContain('github-client-id Iv1.check file ' + `${file}:2`)
    expect(lines).toContain('log-level debug env JUNCTION_LOG_LEVEL')
    expect(lines).toContain('port 8080 flag --port')
    expect(lines).toContain('host 127.0.0.1 default')
    for (const s of SETTINGS) expect(lines.some((l) => l.startsWith(`${s.key} `))).toBe(true)
    expect(r.stdout).not.toContain(password)
    expect(r.stdout).not.toContain(clientSecret)
    expect(existsSync(join(dir, 'data'))).toBe(false)

    const bad = await run(['config', 'check', '--config', file, '--port', 'x'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe("junction: --port must be an integer from 0 to 65535, got 'x'\n")
  }, 120_000)
})

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8')

  it('shows what config check prints for its example, as written', async () => {
    const command = /^(JUNCTION_\S+ npx junction config check .*)$/m.exec(doc)![1]!
    const shown = /```text\n(docs\/junction\.example\.yaml: valid[^`]*)```/.exec(doc)![1]!
    const words = command.split(' ')
    const env = Object.fromEntries(
      words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split('=') as [string, string]),
    )
    const args = words.slice(words.indexOf('junction') + 1)
    const r = await run(args, env)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const actual = rows(r.stdout)
    for (const line of rows(shown).filter(Boolean)) expect(actual).toContain(line)
    // Every key the example sets is read from it.
    const example = readFileSync(join(ROOT, 'docs', 'junction.example.yaml'), 'utf8')
    for (const [, key] of example.matchAll(/^([a-z-]+):/gm))
      expect(actual.some((l) => l.startsWith(`${key} `) && / (file|flag|env) /.test(l))).toBe(true)
  }, 120_000)

  it('lists every key, file form and environment variable', () => {
    for (const s of SETTINGS) {
      expect(doc).toContain(`\`${s.key}\``)
      expect(doc).toContain(`\`${s.env}\``)
      if (s.fileKey) {
        expect(doc).toContain(`\`${s.fileKey}\``)
        expect(doc).toContain(`\`${s.env}_FILE\``)
      }
    }
  })
})
