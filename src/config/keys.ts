/**
 * @module config/keys
 * Every setting of `junction serve` in one table, from which the command line, the configuration
 * file (docs/configuration.md) and the environment are all derived: a setting's file key is its
 * flag's name (`data-dir`), its environment variable is `JUNCTION_` and the name in upper snake
 * case (`JUNCTION_DATA_DIR`). The core flags are listed here; each provider's come from its
 * descriptor in the registry (`configFlags`), so nothing here names a provider.
 *
 * Secrets are recognised by name: a flag ending in `-secret`, and every setting that has a
 * `<key>-file` flag (`database`/`database-file`, `github-private-key`/`github-private-key-file`).
 * A secret is redacted when shown and may also be read from a file: `<key>-file` in the file and
 * on the command line, `<ENV>_FILE` in the environment (`JUNCTION_GITHUB_CLIENT_SECRET_FILE`).
 */
import { defaults } from '../config.js'
import { PROVIDERS } from '../providers/registry.js'

export interface Setting {
  /** The file key and, when `flag`, the `--<key>` flag. */
  key: string
  type: 'string' | 'boolean'
  /** The environment variable that sets it. */
  env: string
  /** Redacted when shown; also given as a file (`fileKey`, `<env>_FILE`). */
  secret: boolean
  /** False for a secret with only its file form on the command line (a PEM key). */
  flag: boolean
  /** `<key>-file`, for secrets. */
  fileKey?: string
  /** What `junction config check` shows when nothing sets it. */
  shownDefault: string
}

/** The core flags of `junction serve`, in `--help` order, with the default `config check` shows. */
const CORE: readonly (readonly [string, 'string' | 'boolean', string])[] = [
  ['host', 'string', defaults.host],
  ['port', 'string', String(defaults.port)],
  ['data-dir', 'string', defaults.dataDir],
  ['database', 'string', '<data-dir>/junction.db'],
  ['database-file', 'string', ''],
  ['region', 'string', defaults.region],
  ['account-id', 'string', defaults.accountId],
  ['public-url', 'string', 'http://<host>:<port>'],
  ['connection-quota', 'string', String(defaults.connectionQuota)],
  ['host-quota', 'string', String(defaults.hostQuota)],
  ['vpc-init-delay', 'string', String(defaults.vpcInitDelaySeconds)],
  ['log-level', 'string', defaults.logLevel],
  ['log-format', 'string', 'pretty on a terminal, else json'],
  ['metrics', 'boolean', 'false'],
  ['metrics-port', 'string', 'none'],
  ['metrics-host', 'string', defaults.metricsHost],
  ['audit', 'string', 'on'],
  ['audit-retention', 'string', String(defaults.auditRetentionDays)],
  ['credential-recheck-interval', 'string', String(defaults.credentialRecheckSeconds)],
  ['console-session-ttl', 'string', String(defaults.consoleSessionSeconds)],
  ['enable-commands', 'boolean', 'false'],
  ['commands-timeout', 'string', String(defaults.commandsTimeoutSeconds)],
  ['commands-uid-range', 'string', defaults.commandsUidRange],
  ['commands-memory', 'string', String(defaults.commandsMemoryMib)],
  ['commands-processes', 'string', String(defaults.commandsProcesses)],
  ['commands-open-files', 'string', String(defaults.commandsOpenFiles)],
  ['commands-disk', 'string', String(defaults.commandsDiskMib)],
  ['commands-network', 'string', 'private'],
  ['poll-interval', 'string', String(defaults.pollIntervalSeconds)],
  ['poll-budget', 'string', String(defaults.pollBudgetPerHour)],
  ['api-only', 'boolean', 'false'],
  ['work-lease', 'string', String(defaults.workLeaseSeconds)],
  ['artifact-dir', 'string', '<data-dir>/artifacts'],
  ['artifact-retention', 'string', String(defaults.artifactRetentionDays)],
  ['max-artifact-size', 'string', String(defaults.maxArtifactMib)],
  ['max-source-archive-size', 'string', String(defaults.maxSourceArchiveMib)],
]

/** Environment variables that kept the name they had before this table (the rest are derived). */
const ENV_NAMES: Readonly<Record<string, string>> = { database: 'JUNCTION_DATABASE_URL' }

/** Every flag of `junction serve` (but `--config` and `--help`): name, type, default shown. */
function allFlags(): [string, 'string' | 'boolean', string][] {
  return [
    ...CORE.map(([n, t, d]) => [n, t, d] as [string, 'string' | 'boolean', string]),
    // A provider flag's default is the one its help line names, if any.
    ...PROVIDERS.flatMap((p) =>
      p.configFlags.map(
        (f) =>
          [f.name, 'string', /\(default ([^,;)]+)/.exec(f.help)?.[1] ?? ''] as [
            string,
            'string',
            string,
          ],
      ),
    ),
  ]
}

const envOf = (key: string) => ENV_NAMES[key] ?? `JUNCTION_${key.toUpperCase().replace(/-/g, '_')}`

function buildSettings(): Setting[] {
  const flags = allFlags()
  const names = new Set(flags.map(([n]) => n))
  const fileOf = new Set(flags.filter(([n]) => n.endsWith('-file')).map(([n]) => n.slice(0, -5)))
  const out: Setting[] = []
  for (const [key, type, shownDefault] of flags) {
    // `<key>-file` is the file form of the secret `<key>`, not a setting of its own.
    if (key.endsWith('-file')) {
      const base = key.slice(0, -5)
      if (!names.has(base))
        out.push({
          key: base,
          type: 'string',
          env: envOf(base),
          secret: true,
          flag: false,
          fileKey: key,
          shownDefault: '',
        })
      continue
    }
    const secret = key.endsWith('-secret') || fileOf.has(key)
    out.push({
      key,
      type,
      env: envOf(key),
      secret,
      flag: true,
      ...(secret ? { fileKey: `${key}-file` } : {}),
      shownDefault,
    })
  }
  return out
}

/** Every setting, core first, then each provider's in registry order. */
export const SETTINGS: readonly Setting[] = buildSettings()

/** Every key a configuration file may hold: each setting's key and, for secrets, its file key. */
export const FILE_KEYS: ReadonlyMap<string, { setting: Setting; isFile: boolean }> = new Map(
  SETTINGS.flatMap((s): [string, { setting: Setting; isFile: boolean }][] => [
    [s.key, { setting: s, isFile: false }],
    ...(s.fileKey
      ? [
          [s.fileKey, { setting: s, isFile: true }] as [
            string,
            { setting: Setting; isFile: boolean },
          ],
        ]
      : []),
  ]),
)

type ArgOption = { type: 'string' } | { type: 'boolean' } | { type: 'boolean'; short: 'h' }

/**
 * The `parseArgs` options of `junction serve` and `junction config check`: every setting's flag,
 * every secret's `--<key>-file`, `--config` and `--help`.
 */
export const SERVE_OPTIONS: Record<string, ArgOption> = {
  ...Object.fromEntries(
    SETTINGS.flatMap((s) => [
      ...(s.flag ? [[s.key, { type: s.type }] as const] : []),
      ...(s.fileKey ? [[s.fileKey, { type: 'string' }] as const] : []),
    ]),
  ),
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}
