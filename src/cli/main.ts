#!/usr/bin/env node
/**
 * @module cli/main
 * The `junction` command. `junction serve` starts the server with the flags of the DESIGN contract.
 */
import { parseArgs } from 'node:util'
import { ConfigError, defaults } from '../config.js'
import { SERVE_OPTIONS } from '../config/keys.js'
import { loadServeConfig } from '../config/layers.js'
import { PROVIDERS } from '../providers/registry.js'
import { startJunction, VERSION } from '../junction.js'
import { PRIVATE_UMASK } from '../bootstrap/private-files.js'
import { awsClientSetup } from '../bootstrap/aws-config.js'
import { hasPassword } from '../store/database-url.js'
import { explain, EXPLAIN_USAGE } from './explain.js'
import { keys } from './keys.js'
import { audit } from './audit.js'
import { configCommand } from './config.js'
import { CliError } from './api-client.js'
import { connections } from './connections.js'
import { demo } from './demo.js'
import { gitCredential } from './git-credential.js'
import { github } from './github.js'
import { hosts } from './hosts.js'
import { sandbox } from './sandbox.js'

const USAGE = `Usage: junction <command> [flags]

Commands:
  serve       Start the Junction server
  config check
              Validate a configuration file and show where each setting comes from
              (docs/configuration.md)
  iam explain Explain how a user's or role's policies decide an action (see junction iam explain --help)
  keys rotate Replace the master key and re-encrypt every stored secret (server stopped)
  connections complete|handshake
              Complete a connection without a browser, or print its consent URL
  github app create
              Print a one-time link that registers Junction's GitHub App (see junction github --help)
  hosts setup Set up a host: GitLab self-managed with an admin token, GitHub Enterprise Server by a link (see junction hosts --help)
  audit export
              Print the audit trail as JSON lines, CloudTrail records (see junction audit --help)
  git-credential
              Git credential helper: clone through a connection (see junction git-credential --help)
  sandbox bitbucket
              Run the local Bitbucket stand-in (see junction sandbox bitbucket --help)
  sandbox github
              Run the local GitHub stand-in, --enterprise for GitHub Enterprise Server
              (see junction sandbox github --help)
  sandbox gitlab
              Run the local GitLab stand-in, --self-managed for self-managed GitLab
              (see junction sandbox gitlab --help)
  demo        A seeded sandbox (Bitbucket, or --provider github) and a Junction wired to it
              (npm run demo)
  version     Print the version
  help        Show this help

junction serve flags (each also a key of the --config file and a JUNCTION_<KEY> variable):
  --config <file>            Settings from a YAML file (default $JUNCTION_CONFIG); the environment
                             overrides it and flags override both (docs/configuration.md)
  --host <addr>              Address to listen on (default ${defaults.host})
  --port <n>                 Port for the API, console and /health (default ${defaults.port})
  --data-dir <dir>           Data directory: master.key, credentials, junction.db (default ${defaults.dataDir})
  --database <file|url>      SQLite file (default <data-dir>/junction.db) or postgres://user@host/db[?schema=name]
                             (a URL with a password: use --database-file or JUNCTION_DATABASE_URL, ps shows argv)
  --database-file <file>     A file whose first line is the --database value (e.g. the PostgreSQL URL)
  --region <name>            Region in new ARNs (default ${defaults.region})
  --account-id <12 digits>   Account that owns the root credentials (default ${defaults.accountId})
  --public-url <url>         URL at which users and providers reach this server (default http://<host>:<port>)
  --connection-quota <n>     Connections per account (default ${defaults.connectionQuota})
  --host-quota <n>           Hosts per account (default ${defaults.hostQuota})
  --vpc-init-delay <s>       Seconds a host with a VPC configuration stays VPC_CONFIG_INITIALIZING (default ${defaults.vpcInitDelaySeconds})
  --log-level <level>        fatal, error, warn, info, debug, trace or silent (default ${defaults.logLevel})
  --log-format <json|pretty> Log lines as JSON or for people (default: pretty on a terminal, else json)
  --metrics                  Serve Prometheus metrics at /metrics on the main port (no authentication:
                             anyone who reaches the API reads them; prefer --metrics-port)
  --metrics-port <n>         Serve /metrics on a listener of its own instead (implies --metrics)
  --metrics-host <addr>      Address of that listener (default ${defaults.metricsHost})
${PROVIDERS.flatMap((p) => p.configFlags.map((f) => f.help)).join('\n')}
  --credential-recheck-interval <s> Seconds between retries of installations in ERROR (default ${defaults.credentialRecheckSeconds})
  --console-session-ttl <s>  How long a console sign-in lasts (default ${defaults.consoleSessionSeconds})
  --enable-commands          Let pipelines run Commands actions (shell commands from the pipeline
                             definition), each isolated: its own uid, mount and PID namespaces, limits.
                             Needs root; refuses to start where builds cannot be isolated
  --commands-timeout <s>     Longest a Commands action may run, in seconds (default ${defaults.commandsTimeoutSeconds})
  --commands-uid-range <a-b> Uids (and gids) builds run as, one per running build (default ${defaults.commandsUidRange})
  --commands-memory <MiB>    Memory a build may use (default ${defaults.commandsMemoryMib})
  --commands-processes <n>   Processes a build may run at once (default ${defaults.commandsProcesses})
  --commands-open-files <n>  Files a build's process may hold open (default ${defaults.commandsOpenFiles})
  --commands-disk <MiB>      Disk a build's working directory may use, and its largest file (default ${defaults.commandsDiskMib})
  --commands-network <mode>  private (default: outbound access through slirp4netns, never this host's
                             loopback), none (no network at all) or host (this machine's network,
                             127.0.0.1 services such as the database included)
  --poll-interval <s>        Seconds between polls of watched branches that have no webhook (default ${defaults.pollIntervalSeconds})
  --poll-budget <n>          Requests an hour polling may spend per Bitbucket credential, of its 1,000 (default
                             ${defaults.pollBudgetPerHour}; scaled up when Bitbucket announces a larger limit)
  --artifact-dir <dir>       Where pipeline artifacts are kept (default <data-dir>/artifacts; shared
                             storage when several nodes run pipelines)
  --artifact-retention <days> Days a finished execution's artifacts and logs are kept, 0 for ever (default ${defaults.artifactRetentionDays})
  --max-artifact-size <MiB>  Most an artifact's files may hold, uncompressed: a larger output artifact,
                             or an input that expands beyond it, fails the action (default ${defaults.maxArtifactMib})
  --max-source-archive-size <MiB> Largest source archive a CODE_ZIP source action downloads (default ${defaults.maxSourceArchiveMib})
  --api-only                 Serve the API, console and webhooks, but leave events and executions to
                             other nodes (PostgreSQL)
  --work-lease <s>           Seconds a node holds an event or execution between renewals: how long a
                             dead node's work waits before another node takes it (default ${defaults.workLeaseSeconds})
  --audit <on|off>           Record every API call and connection use in the audit trail (default on)
  --audit-retention <days>   Days audit events are kept (default ${defaults.auditRetentionDays}; docs/audit.md)

Environment:
  JUNCTION_MASTER_KEY                 32-byte master key (base64 or hex) instead of <data-dir>/master.key
  JUNCTION_ROOT_ACCESS_KEY_ID,
  JUNCTION_ROOT_SECRET_ACCESS_KEY     root credentials instead of <data-dir>/credentials
${PROVIDERS.flatMap((p) => (p.envHelp ? [p.envHelp] : [])).join('\n')}
  JUNCTION_DATABASE_URL               the --database value (e.g. postgres://user:password@host/db)
  JUNCTION_DATABASE_URL_FILE          a file holding it (as --database-file)
  JUNCTION_<KEY>, JUNCTION_<KEY>_FILE any setting (JUNCTION_PORT, JUNCTION_LOG_LEVEL); a secret
                                      (--database, --…-secret) also from a file, as --<key>-file

Files: junction runs with umask 077; everything it writes (data directory, master.key,
credentials, the SQLite database and its WAL, artifacts, logs) is owner-only (0700/0600).
`

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: SERVE_OPTIONS,
    allowPositionals: false,
    strict: true,
  })
  if (values['help']) {
    process.stdout.write(USAGE)
    return
  }
  const { config, layered } = loadServeConfig(values, process.env)
  for (const w of layered.warnings) process.stderr.write(`junction: warning: ${w}\n`)
  const database = values['database']
  if (typeof database === 'string' && hasPassword(database))
    process.stderr.write(
      'junction: warning: the --database URL carries a password, which every user can read with ps; ' +
        'give it in JUNCTION_DATABASE_URL or a --database-file instead\n',
    )
  // Read once: the processes Junction starts (git, builds) do not inherit it.
  delete process.env['JUNCTION_DATABASE_URL']
  const junction = await startJunction(config)
  // The AWS config file beside credentials, and the three lines that point AWS clients at Junction.
  process.stderr.write(
    awsClientSetup({
      dataDir: config.dataDir,
      region: config.region,
      endpointUrl: config.publicUrlDerived ? junction.url : config.publicUrl.replace(/\/+$/, ''),
      root: junction.root,
    }).message,
  )
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    junction.logger.info({ signal }, 'shutting down')
    junction.close().then(
      () => {
        junction.logger.info('stopped')
        junction.flushLogs()
        process.exit(0)
      },
      (err: unknown) => {
        junction.logger.error({ err }, 'shutdown failed')
        junction.flushLogs()
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  // Everything Junction (or a library, or git) creates is owner-only: data directory, keys,
  // database, WAL, artifacts, logs, the sandbox's data.
  process.umask(PRIVATE_UMASK)
  switch (command) {
    case 'serve':
      return serve(rest)
    case 'iam':
      if (rest[0] !== 'explain') {
        process.stderr.write(`junction: unknown command 'iam ${rest[0] ?? ''}'\n\n${EXPLAIN_USAGE}`)
        process.exitCode = 2
        return
      }
      process.exitCode = await explain(rest.slice(1))
      return
    case 'keys':
      process.exitCode = await keys(rest)
      return
    case 'connections':
      process.exitCode = await connections(rest)
      return
    case 'github':
      process.exitCode = await github(rest)
      return
    case 'hosts':
      process.exitCode = await hosts(rest)
      return
    case 'audit':
      process.exitCode = await audit(rest)
      return
    case 'config':
      process.exitCode = await configCommand(rest)
      return
    case 'git-credential':
      process.exitCode = await gitCredential(rest)
      return
    case 'sandbox':
      process.exitCode = await sandbox(rest)
      return
    case 'demo':
      process.exitCode = await demo(rest)
      return
    case 'version':
    case '--version':
      process.stdout.write(`junction ${VERSION}\n`)
      return
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return
    default:
      process.stderr.write(`junction: unknown command '${command}'\n\n${USAGE}`)
      process.exitCode = 2
  }
}

const argvCommand = process.argv[2]

main(process.argv.slice(2)).catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof CliError ||
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    process.stderr.write(`junction: ${(err as Error).message}\n`)
    process.exit(2)
  }
  const message = err instanceof Error ? err.message : String(err)
  process.stderr.write(
    `junction: ${argvCommand === 'serve' ? 'failed to start: ' : ''}${message}\n`,
  )
  process.exit(1)
})
