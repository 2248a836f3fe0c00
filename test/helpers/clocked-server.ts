/**
 * A real Junction whose authentication throttle runs on a clock the test moves, with its log lines
 * captured, and an HTTP client that sends from a chosen loopback source address (127.0.0.0/8 is
 * all local on Linux), so that one test can be several clients.
 */
import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { configFromFlags } from '../../src/config.js'
import { startJunction, type RunningJunction } from '../../src/junction.js'
import { testClock } from './clock.js'

export interface ClockedServer extends RunningJunction {
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** Moves the throttle's clock forward. */
  advance(ms: number): void
  /** Every log line written so far (JSON text). */
  logs: string[]
  stop(): Promise<void>
}

export async function startClockedServer(): Promise<ClockedServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-test-'))
  const clock = testClock()
  const logs: string[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) })
  const config = configFromFlags({
    host: '127.0.0.1',
    port: '0',
    'data-dir': dataDir,
    'vpc-init-delay': '1',
  })
  const junction = await startJunction(config, { logger, clock: clock.now })
  return {
    ...junction,
    credentials: {
      accessKeyId: junction.root.accessKeyId,
      secretAccessKey: junction.root.secretAccessKey,
    },
    advance(ms) {
      clock.advance(ms)
    },
    logs,
    async stop() {
      await junction.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export interface FromResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** Sends one request from `localAddress` (e.g. 127.0.0.2). */
export function sendFrom(
  localAddress: string,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<FromResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: {
          ...opts.headers,
          ...(opts.body !== undefined ? { 'content-length': Buffer.byteLength(opts.body) } : {}),
        },
        localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}
