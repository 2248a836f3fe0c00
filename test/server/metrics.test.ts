/**
 * Prometheus metrics, scraped from a real Junction after real calls: API requests and errors,
 * authentication failures, provider calls to the sandbox Bitbucket (as endpoint templates), a
 * webhook delivery from the sandbox and refused ones, the event queue read from the store. The
 * exposition is parsed line by line, and no label value carries an ARN, a name or a secret.
 */
import { ListConnectionsCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MasterKey } from '../../src/crypto/master-key.js'
import { configFromFlags, ConfigError } from '../../src/config.js'
import { endpointTemplate, MAX_SERIES, Metrics } from '../../src/server/metrics.js'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/**
 * Parses the text exposition format (0.0.4): every line is a comment (`# HELP`, `# TYPE`) or a
 * sample `name{label="value",…} number`; every sample's family was declared by `# TYPE` first.
 */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = []
  const typed = new Set<string>()
  expect(text.endsWith('\n')).toBe(true)
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][\w:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type) {
      typed.add(type[1]!)
      continue
    }
    // Empty lines are allowed (and ignored) by the format.
    if (line === '' || /^# HELP [a-zA-Z_:][\w:]* .+$/.test(line)) continue
    // Prometheus reads values with Go's ParseFloat, which takes NaN in any case: prom-client's
    // Node.js default metrics print `Nan` until the event-loop histogram has a sample.
    const m =
      /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|[+-]Inf|[Nn]a[Nn]))$/.exec(
        line,
      )
    expect(m, `not an exposition line: ${line}`).not.toBeNull()
    const labels: Record<string, string> = {}
    const body = m![2] ?? ''
    const re = /([a-zA-Z_]\w*)="((?:[^"\\\n]|\\.)*)"(,|$)/y
    let at = 0
    while (at < body.length) {
      const l = re.exec(body)
      expect(l, `bad labels in: ${line}`).not.toBeNull()
      labels[l![1]!] = l![2]!
      at = re.lastIndex
    }
    const name = m![1]!
    const family = name.replace(/_(bucket|sum|count|total)$/, '')
    expect(typed.has(name) || typed.has(family), `undeclared family: ${name}`).toBe(true)
    samples.push({ name, labels, value: Number(m![3]) })
  }
  return samples
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
const total = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  find(samples, name, labels).reduce((n, s) => n + s.value, 0)

describe('metrics on their own listener (--metrics-port), after real calls', () => {
  let f: ConnectFixture
  let samples: Sample[]
  let secrets: string[]
  const account = '000000000000'

  beforeAll(async () => {
    // API-only: nothing takes the recorded event, so the queue gauges have a known value.
    f = await startConnectFixture('sqlite', { 'metrics-port': '0', 'api-only': true })
    expect(f.server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const arn = await newConnection(f)
    expect((await completeWithToken(f, arn)).status).toBe(200)
    await f.sdk.send(new ListConnectionsCommand({}))
    await f.sdk.send(new ListConnectionsCommand({}))
    // An unknown connection (an error of the operation) and a wrong signature (authentication).
    const missing = await f.raw.call({
      operation: 'GetConnection',
      body: { ConnectionArn: `${arn.slice(0, -5)}00000` },
    })
    expect(missing.status).toBe(400)
    const forged = await f.raw.call({
      operation: 'ListConnections',
      credentials: { ...f.server.credentials, secretAccessKey: 'not-the-secret' },
    })
    expect(forged.status).toBe(403)

    // A real delivery from the sandbox Bitbucket, a forged one and one to no webhook.
    const hook = await f.server.webhooks.ensure(account, arn, 'acme/app')
    await f.sb.admin('repositories/acme/app/commits', { branch: 'main', files: { 'm.txt': 'm' } })
    await f.sb.settled()
    const body = Buffer.from(JSON.stringify({ repository: { full_name: 'acme/app' }, push: {} }))
    const post = (id: string, headers: Record<string, string>) =>
      fetch(`${f.server.url}/webhooks/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-event-key': 'repo:push', ...headers },
        body,
      })
    const forgedHook = await post(hook.id, {
      'x-request-uuid': 'forged',
      'x-hub-signature': `sha256=${'0'.repeat(64)}`,
    })
    expect(forgedHook.status).toBe(401)
    expect((await post('0'.repeat(32), { 'x-request-uuid': 'nowhere' })).status).toBe(404)

    const hookSecret = (
      JSON.parse(MasterKey.load(f.server.dataDir, {}).decrypt(hook.secretCiphertext)) as {
        accessToken: string
      }
    ).accessToken
    secrets = [f.server.credentials.secretAccessKey, f.world.acmeToken, hookSecret]

    // Not on the main port: metrics have a listener of their own here.
    expect((await fetch(`${f.server.url}/metrics`)).status).toBe(404)
    const other = await fetch(f.server.metricsUrl!.replace('/metrics', '/'))
    expect(other.status).toBe(404)

    const res = await fetch(f.server.metricsUrl!)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    samples = parseExposition(await res.text())
  })
  afterAll(() => stopConnectFixture(f))

  it('counts API requests by operation and status, with their latency', () => {
    const list = {
      service: 'codestar-connections',
      operation: 'ListConnections',
      status: '200',
    }
    expect(total(samples, 'junction_api_request_duration_seconds_count', list)).toBe(2)
    expect(total(samples, 'junction_api_request_duration_seconds_sum', list)).toBeGreaterThan(0)
    const inf = find(samples, 'junction_api_request_duration_seconds_bucket', {
      ...list,
      le: '+Inf',
    })
    expect(inf.map((s) => s.value)).toEqual([2])
    expect(
      total(samples, 'junction_api_errors_total', {
        operation: 'GetConnection',
        code: 'ResourceNotFoundException',
      }),
    ).toBe(1)
    expect(
      total(samples, 'junction_api_request_duration_seconds_count', {
        operation: 'CompleteConnection',
        status: '200',
      }),
    ).toBe(1)
  })

  it('counts authentication failures by reason', () => {
    expect(total(samples, 'junction_auth_failures_total', { reason: 'invalid_signature' })).toBe(1)
    // An operation's own error is not an authentication failure.
    expect(total(samples, 'junction_auth_failures_total')).toBe(1)
  })

  it('counts webhook deliveries by provider and outcome, and reads the queue from the store', async () => {
    const hooks = (labels: Record<string, string>) =>
      total(samples, 'junction_webhook_deliveries_total', labels)
    expect(hooks({ provider: 'Bitbucket', outcome: 'recorded' })).toBe(1)
    expect(hooks({ provider: 'Bitbucket', outcome: 'rejected' })).toBe(1)
    expect(hooks({ provider: 'unknown', outcome: 'rejected' })).toBe(1)
    expect(find(samples, 'junction_event_queue_depth').map((s) => s.value)).toEqual([1])
    const age = find(samples, 'junction_event_queue_oldest_age_seconds')[0]!.value
    expect(age).toBeGreaterThan(0)
    expect(age).toBeLessThan(120)
    expect(await f.server.store.pipelines.events.backlog()).toMatchObject({ depth: 1 })
  })

  it('times provider calls by endpoint template, never by URL', () => {
    const calls = find(samples, 'junction_provider_request_duration_seconds_count')
    expect(calls.length).toBeGreaterThan(0)
    expect(calls.every((s) => s.labels['provider'] === 'Bitbucket')).toBe(true)
    // Registering the webhook: a POST to the repository's hooks.
    expect(
      total(samples, 'junction_provider_request_duration_seconds_count', {
        endpoint: 'POST /2.0/repositories/{owner}/{repo}/hooks',
      }),
    ).toBe(1)
    for (const s of calls) {
      expect(s.labels['endpoint']).toMatch(/^(GET|POST|PUT|DELETE|HEAD|PATCH) \/[\w./{}]*$/)
      expect(s.labels['endpoint']).not.toMatch(/acme|app\b/)
      expect(s.labels['status']).toMatch(/^(\d{3}|timeout|unreachable)$/)
    }
  })

  it('keeps every label value bounded: no ARN, account, name or secret', () => {
    for (const s of samples)
      for (const v of Object.values(s.labels)) {
        expect(v).not.toMatch(/arn:|000000000000|acme|alice/)
        for (const secret of secrets) expect(v).not.toContain(secret)
      }
    expect(find(samples, 'process_cpu_user_seconds_total')).toHaveLength(1)
  })
})

describe('metrics on the main port (--metrics)', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer('sqlite', { metrics: true })
  })
  afterAll(() => s?.stop())

  it('serves /metrics beside the API, counting the scrapes themselves', async () => {
    expect(s.metricsUrl).toBeUndefined()
    const first = await fetch(`${s.url}/metrics`)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/)
    parseExposition(await first.text())
    const second = parseExposition(await (await fetch(`${s.url}/metrics`)).text())
    expect(
      total(second, 'junction_api_request_duration_seconds_count', {
        operation: 'metrics',
        status: '200',
      }),
    ).toBe(1)
  })
})

describe('metrics off (the default)', () => {
  it('has no /metrics route and no registry', async () => {
    const s = await startTestServer('sqlite')
    try {
      expect(s.metrics).toBeUndefined()
      expect((await fetch(`${s.url}/metrics`)).status).toBe(404)
    } finally {
      await s.stop()
    }
  })
})

describe('endpoint templates and bounded labels', () => {
  it('keeps only REST words and names the values', () => {
    const t = (url: string, method = 'GET') => endpointTemplate(method, url)
    expect(t('https://api.github.com/repos/octo/hello/commits/abc123?per_page=1')).toBe(
      'GET /repos/{owner}/{repo}/commits/{commit}',
    )
    expect(t('https://api.github.com/app/installations/42/access_tokens', 'POST')).toBe(
      'POST /app/installations/{installation}/access_tokens',
    )
    expect(t('http://127.0.0.1:9/2.0/repositories/acme/app/src/0a1b/docs/readme.md')).toBe(
      'GET /2.0/repositories/{owner}/{repo}/src/{path}',
    )
    expect(t('https://bitbucket.org/site/oauth2/access_token', 'POST')).toBe(
      'POST /site/oauth2/access_token',
    )
    expect(t('https://x.example/secret-token-value/more/and-more')).toBe('GET /{id}')
    expect(t('not a url')).toBe('GET {unparsed}')
    expect(t(`https://x.example/${'repos/'.repeat(50)}`).split('/').length).toBeLessThanOrEqual(11)
  })

  it('folds label values past the bound into "other"', async () => {
    const m = new Metrics({ processMetrics: false })
    for (let i = 0; i < MAX_SERIES + 5; i++) m.webhook(`P${i}`, 'recorded')
    const samples = parseExposition(await m.scrape())
    const series = find(samples, 'junction_webhook_deliveries_total')
    expect(series).toHaveLength(MAX_SERIES + 1)
    expect(total(samples, 'junction_webhook_deliveries_total', { provider: 'other' })).toBe(5)
  })

  it('names only the action providers Junction runs', async () => {
    const m = new Metrics({ processMetrics: false })
    m.action('Commands', 'Succeeded', 2)
    m.action('My"Custom\nAction', 'Failed', 1)
    m.execution('Succeeded')
    const samples = parseExposition(await m.scrape())
    const actions = find(samples, 'junction_pipeline_action_duration_seconds_count')
    expect(actions.map((s) => s.labels)).toEqual([
      { action: 'Commands', status: 'Succeeded' },
      { action: 'other', status: 'Failed' },
    ])
    expect(total(samples, 'junction_pipeline_executions_total', { status: 'Succeeded' })).toBe(1)
  })
})

describe('metrics flags', () => {
  const base = { 'data-dir': '/tmp/x', port: '4599' }
  it('reads --metrics, --metrics-port and --metrics-host', () => {
    expect(configFromFlags(base).metrics).toBeUndefined()
    expect(configFromFlags({ ...base, metrics: true }).metrics).toEqual({ host: '127.0.0.1' })
    expect(configFromFlags({ ...base, 'metrics-port': '9100' }).metrics).toEqual({
      port: 9100,
      host: '127.0.0.1',
    })
    expect(
      configFromFlags({ ...base, 'metrics-port': '9100', 'metrics-host': '0.0.0.0' }).metrics,
    ).toEqual({ port: 9100, host: '0.0.0.0' })
  })
  it('refuses a listener without a port, on the API port, or a bad port', () => {
    expect(() => configFromFlags({ ...base, 'metrics-host': '0.0.0.0' })).toThrow(ConfigError)
    expect(() => configFromFlags({ ...base, 'metrics-port': '4599' })).toThrow(
      /--metrics-port must differ from --port/,
    )
    expect(() => configFromFlags({ ...base, 'metrics-port': 'x' })).toThrow(/--metrics-port/)
  })
})
