/**
 * @module config
 * `junction serve` flags (the DESIGN contract table) and their defaults.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ProviderConfig } from './providers/descriptor.js'
import { PROVIDERS } from './providers/registry.js'

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
  /** True when --public-url was not given (then it is the listening address). */
  publicUrlDerived: boolean
  connectionQuota: number
  hostQuota: number
  tagsPerResource: number
  /** Milliseconds a host with a VPC configuration stays `VPC_CONFIG_INITIALIZING`. */
  vpcInitDelayMs: number
  /** Largest accepted request body. */
  maxBodyBytes: number
  logLevel: string
  /** `--log-format`; absent: pretty on a terminal, JSON otherwise (decided at start-up). */
  logFormat: 'json' | 'pretty' | undefined
  /**
   * Prometheus metrics at `/metrics`: absent, off; `port` absent, on the main port (`--metrics`);
   * else on a listener of their own at `host:port` (`--metrics-port`, loopback by default).
   */
  metrics: { port?: number; host: string } | undefined
  /** The audit trail (docs/audit.md): `--audit on|off` and `--audit-retention <days>`. */
  audit: { enabled: boolean; retentionMs: number }
  /**
   * Each provider's endpoints and application, by `ProviderType` (read by its descriptor from its
   * own flags; an application absent: handshakes are refused with a reason).
   */
  providers: Record<string, ProviderConfig>
  /** How often installations in ERROR are retried. */
  credentialRecheckMs: number
  /** How long a console sign-in lasts. */
  consoleSessionTtlMs: number
  pipelines: {
    /** Whether Commands actions may run (they execute code from pipeline definitions). */
    enableCommands: boolean
    /** The longest a Commands action may run, whatever its timeoutInMinutes says. */
    commandsTimeoutMs: number
    /** Each Commands build's own uid (from this range) and limits (see pipelines/isolation). */
    commandsIsolation: {
      uidRange: { first: number; last: number }
      memoryBytes: number
      processes: number
      openFiles: number
      diskBytes: number
      network: 'private' | 'none' | 'host'
    }
    /** How often branches of repositories without a webhook are polled. */
    pollIntervalMs: number
    /**
     * Requests an hour polling may spend per provider credential, against Bitbucket's 1,000 (scaled
     * up in proportion when Bitbucket announces a larger limit).
     */
    pollBudgetPerHour: number
    /** The artifact store: a folder (shared storage when several nodes run pipelines). */
    artifactDir: string
    /** How long a finished execution's artifacts and logs are kept (0: for ever). */
    artifactRetentionMs: number
    /** The most an artifact's files may hold, uncompressed (zipping outputs, extracting inputs). */
    maxArtifactBytes: number
    /** The largest source archive (CODE_ZIP) a source action downloads. */
    maxSourceArchiveBytes: number
    /** False on an API-only node: it accepts calls and webhooks, other nodes do the work. */
    worker: boolean
    /** How long a node holds an event or execution without renewing (a dead node's work waits this long). */
    leaseMs: number
  }
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
  metricsHost: '127.0.0.1',
  credentialRecheckSeconds: 60,
  consoleSessionSeconds: 8 * 3600,
  commandsTimeoutSeconds: 3600,
  commandsUidRange: '2100000000-2100065535',
  commandsMemoryMib: 2048,
  commandsProcesses: 512,
  commandsOpenFiles: 4096,
  commandsDiskMib: 10_240,
  pollIntervalSeconds: 60,
  pollBudgetPerHour: 800,
  workLeaseSeconds: 15,
  artifactRetentionDays: 30,
  /** CloudTrail's event history keeps 90 days. */
  auditRetentionDays: 90,
  maxArtifactMib: 1024,
  maxSourceArchiveMib: 1024,
} as const

/** Artifacts are plain zip archives (no ZIP64): below 4 GiB, with room for their headers. */
export const MAX_ARTIFACT_MIB = 4000

export interface ServeFlags {
  /** Each provider's own flags (its descriptor's `configFlags`, e.g. `bitbucket-url`). */
  [providerFlag: string]: string | boolean | undefined
  host?: string
  port?: string
  'data-dir'?: string
  database?: string
  'database-file'?: string
  region?: string
  'account-id'?: string
  'public-url'?: string
  'connection-quota'?: string
  'host-quota'?: string
  'vpc-init-delay'?: string
  'log-level'?: string
  'log-format'?: string
  metrics?: boolean
  'metrics-port'?: string
  'metrics-host'?: string
  audit?: string
  'audit-retention'?: string
  'credential-recheck-interval'?: string
  'console-session-ttl'?: string
  'enable-commands'?: boolean
  'commands-timeout'?: string
  'commands-uid-range'?: string
  'commands-memory'?: string
  'commands-processes'?: string
  'commands-open-files'?: string
  'commands-disk'?: string
  'commands-network'?: string
  'poll-interval'?: string
  'poll-budget'?: string
  'api-only'?: boolean
  'work-lease'?: string
  'artifact-dir'?: string
  'artifact-retention'?: string
  'max-artifact-size'?: string
  'max-source-archive-size'?: string
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

function httpUrl(name: string, value: string): string {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    throw new ConfigError(`--${name} is not a URL: '${value}'`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError(`--${name} must be an http(s) URL, got '${value}'`)
  return value.replace(/\/+$/, '')
}

/**
 * The database: `--database`, else the first line of `--database-file`, of the file named by
 * `JUNCTION_DATABASE_URL_FILE`, or `JUNCTION_DATABASE_URL`, else `<data-dir>/junction.db`. A
 * PostgreSQL URL with its password belongs in the environment or a file: the command line is
 * visible to every user through `ps`.
 */
export function databaseFrom(
  flags: Pick<ServeFlags, 'database' | 'database-file'>,
  env: NodeJS.ProcessEnv,
  dataDir: string,
): string {
  if (flags.database !== undefined && flags['database-file'] !== undefined)
    throw new ConfigError('give --database or --database-file, not both')
  const fromFile = (file: string, what: string) => {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new ConfigError(
        `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      )
    }
    const value = text.split('\n')[0]!.trim()
    if (!value) throw new ConfigError(`${what} ${file} is empty`)
    return value
  }
  const fileEnv = env['JUNCTION_DATABASE_URL_FILE']
  const value =
    flags.database ??
    (flags['database-file'] !== undefined
      ? fromFile(flags['database-file'], '--database-file')
      : fileEnv
        ? fromFile(fileEnv, 'JUNCTION_DATABASE_URL_FILE')
        : env['JUNCTION_DATABASE_URL'])
  if (value === '')
    throw new ConfigError('the database (--database or JUNCTION_DATABASE_URL) is empty')
  return value ?? join(dataDir, 'junction.db')
}

export function configFromFlags(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Config {
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
  const logFormat = flags['log-format']
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty')
    throw new ConfigError(`--log-format must be json or pretty, got '${logFormat}'`)
  return {
    host,
    port,
    dataDir,
    database: databaseFrom(flags, env, dataDir),
    region,
    accountId,
    partition: region.startsWith('cn-')
      ? 'aws-cn'
      : region.startsWith('us-gov-')
        ? 'aws-us-gov'
        : 'aws',
    publicUrl,
    publicUrlDerived: flags['public-url'] === undefined,
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
    logFormat,
    metrics: metricsFrom(flags, port),
    audit: auditFrom(flags),
    providers: Object.fromEntries(
      PROVIDERS.map((p) => [
        p.type,
        p.readConfig(flags as Record<string, string | boolean | undefined>, env, {
          httpUrl,
          error: (message) => new ConfigError(message),
        }),
      ]),
    ),
    credentialRecheckMs:
      integer(
        'credential-recheck-interval',
        flags['credential-recheck-interval'],
        defaults.credentialRecheckSeconds,
        1,
        86_400,
      ) * 1000,
    consoleSessionTtlMs:
      integer(
        'console-session-ttl',
        flags['console-session-ttl'],
        defaults.consoleSessionSeconds,
        1,
        7 * 86_400,
      ) * 1000,
    pipelines: {
      enableCommands: flags['enable-commands'] === true,
      commandsTimeoutMs:
        integer(
          'commands-timeout',
          flags['commands-timeout'],
          defaults.commandsTimeoutSeconds,
          1,
          86_400,
        ) * 1000,
      commandsIsolation: commandsIsolation(flags),
      pollIntervalMs:
        integer('poll-interval', flags['poll-interval'], defaults.pollIntervalSeconds, 1, 86_400) *
        1000,
      pollBudgetPerHour: integer(
        'poll-budget',
        flags['poll-budget'],
        defaults.pollBudgetPerHour,
        1,
        1_000_000,
      ),
      artifactDir: resolve(flags['artifact-dir'] ?? join(dataDir, 'artifacts')),
      artifactRetentionMs:
        integer(
          'artifact-retention',
          flags['artifact-retention'],
          defaults.artifactRetentionDays,
          0,
          3650,
        ) * 86_400_000,
      maxArtifactBytes:
        integer(
          'max-artifact-size',
          flags['max-artifact-size'],
          defaults.maxArtifactMib,
          1,
          MAX_ARTIFACT_MIB,
        ) * 1_048_576,
      maxSourceArchiveBytes:
        integer(
          'max-source-archive-size',
          flags['max-source-archive-size'],
          defaults.maxSourceArchiveMib,
          1,
          MAX_ARTIFACT_MIB,
        ) * 1_048_576,
      worker: flags['api-only'] !== true,
      leaseMs:
        integer('work-lease', flags['work-lease'], defaults.workLeaseSeconds, 1, 3600) * 1000,
    },
  }
}

function commandsIsolation(flags: ServeFlags): Config['pipelines']['commandsIsolation'] {
  const range = flags['commands-uid-range'] ?? defaults.commandsUidRange
  const m = /^(\d+)-(\d+)$/.exec(range)
  const first = Number(m?.[1])
  const last = Number(m?.[2])
  // Above the uids of ordinary accounts, below the kernel's (uint32) invalid uid.
  if (!m || first < 1000 || last < first || last > 4_294_967_293)
    throw new ConfigError(
      `--commands-uid-range must be <first>-<last> with 1000 <= first <= last <= 4294967293, got '${range}'`,
    )
  const MiB = 1_048_576
  const network = flags['commands-network'] ?? 'private'
  if (network !== 'private' && network !== 'none' && network !== 'host')
    throw new ConfigError(`--commands-network must be private, none or host, got '${network}'`)
  return {
    uidRange: { first, last },
    network,
    memoryBytes:
      integer(
        'commands-memory',
        flags['commands-memory'],
        defaults.commandsMemoryMib,
        16,
        1 << 20,
      ) * MiB,
    processes: integer(
      'commands-processes',
      flags['commands-processes'],
      defaults.commandsProcesses,
      8,
      1_000_000,
    ),
    openFiles: integer(
      'commands-open-files',
      flags['commands-open-files'],
      defaults.commandsOpenFiles,
      64,
      1 << 20,
    ),
    diskBytes:
      integer('commands-disk', flags['commands-disk'], defaults.commandsDiskMib, 1, 1 << 24) * MiB,
  }
}

function auditFrom(flags: ServeFlags): Config['audit'] {
  const on = flags.audit ?? 'on'
  if (on !== 'on' && on !== 'off') throw new ConfigError(`--audit must be on or off, got '${on}'`)
  const days = integer(
    'audit-retention',
    flags['audit-retention'],
    defaults.auditRetentionDays,
    1,
    3650,
  )
  return { enabled: on === 'on', retentionMs: days * 86_400_000 }
}

function metricsFrom(flags: ServeFlags, port: number): Config['metrics'] {
  const host = flags['metrics-host'] ?? defaults.metricsHost
  if (flags['metrics-port'] === undefined) {
    if (flags['metrics-host'] !== undefined)
      throw new ConfigError('--metrics-host needs --metrics-port (the metrics listener)')
    return flags.metrics === true ? { host } : undefined
  }
  const metricsPort = integer('metrics-port', flags['metrics-port'], 0, 0, 65535)
  if (metricsPort !== 0 && metricsPort === port)
    throw new ConfigError(
      `--metrics-port must differ from --port (${port}); give --metrics alone to serve /metrics on the main port`,
    )
  return { port: metricsPort, host }
}
