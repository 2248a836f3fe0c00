/**
 * @module config
 * `junction serve` flags (the DESIGN contract table) and their defaults.
 */
import { join, resolve } from 'node:path'

export interface Config {
  host: string
  port: number
  dataDir: string
  /** A SQLite file path or a `postgres://` URL. */
  database: string
  region: string
  accountId: string
  partition: string
  publicUrl: string
  connectionQuota: number
  hostQuota: number
  tagsPerResource: number
  /** Milliseconds a host with a VPC configuration stays `VPC_CONFIG_INITIALIZING`. */
  vpcInitDelayMs: number
  /** Largest accepted request body. */
  maxBodyBytes: number
  logLevel: string
}

export const defaults = {
  host: '127.0.0.1',
  port: 4599,
  dataDir: '.junction',
  region: 'us-east-1',
  accountId: '000000000000',
  connectionQuota: 250,
  hostQuota: 50,
  vpcInitDelaySeconds: 3,
  logLevel: 'info',
} as const

export interface ServeFlags {
  host?: string
  port?: string
  'data-dir'?: string
  database?: string
  region?: string
  'account-id'?: string
  'public-url'?: string
  'connection-quota'?: string
  'host-quota'?: string
  'vpc-init-delay'?: string
  'log-level'?: string
}

export class ConfigError extends Error {}

function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`)
  return n
}

export function configFromFlags(flags: ServeFlags): Config {
  const host = flags.host ?? defaults.host
  const port = integer('port', flags.port, defaults.port, 0, 65535)
  const dataDir = resolve(flags['data-dir'] ?? defaults.dataDir)
  const region = flags.region ?? defaults.region
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    throw new ConfigError(`--region is not a region name: '${region}'`)
  const accountId = flags['account-id'] ?? defaults.accountId
  if (!/^\d{12}$/.test(accountId))
    throw new ConfigError(`--account-id must be 12 digits, got '${accountId}'`)
  const publicUrl =
    flags['public-url'] ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  try {
    new URL(publicUrl)
  } catch {
    throw new ConfigError(`--public-url is not a URL: '${publicUrl}'`)
  }
  const logLevel = flags['log-level'] ?? defaults.logLevel
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    throw new ConfigError(
      `--log-level must be one of fatal, error, warn, info, debug, trace, silent`,
    )
  return {
    host,
    port,
    dataDir,
    database: flags.database ?? join(dataDir, 'junction.db'),
    region,
    accountId,
    partition: region.startsWith('cn-')
      ? 'aws-cn'
      : region.startsWith('us-gov-')
        ? 'aws-us-gov'
        : 'aws',
    publicUrl,
    connectionQuota: integer(
      'connection-quota',
      flags['connection-quota'],
      defaults.connectionQuota,
      0,
      1_000_000,
    ),
    hostQuota: integer('host-quota', flags['host-quota'], defaults.hostQuota, 0, 1_000_000),
    tagsPerResource: 50,
    vpcInitDelayMs:
      integer('vpc-init-delay', flags['vpc-init-delay'], defaults.vpcInitDelaySeconds, 0, 3600) *
      1000,
    maxBodyBytes: 1024 * 1024,
    logLevel,
  }
}
