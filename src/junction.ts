/**
 * @module junction
 * The composition root: config → master key → store → credentials → HTTP server.
 */
import { dirname, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { Server } from 'node:http'
import { privateDir } from './bootstrap/private-files.js'
import type { Config } from './config.js'
import { MasterKey } from './crypto/master-key.js'
import { PageTokens } from './domain/pagination.js'
import { CredentialResolver } from './iam/credentials.js'
import type { Principal } from './iam/principal.js'
import { Authorizer } from './iam/authorizer.js'
import { IAM_LIMITS } from './iam/api/index.js'
import { SigV4Verifier } from './protocol/sigv4/verify.js'
import { createHttpServer } from './server/http.js'
import { createLogger, logFormatFor } from './server/logging.js'
import { createMetricsServer, Metrics } from './server/metrics.js'
import { AuthThrottle } from './server/throttle.js'
import { openStore, isPostgresUrl, type Store } from './store/index.js'
import { ConsoleApp } from './console/console.js'
import { CredentialKeeper } from './connect/credentials.js'
import { ConnectService } from './connect/service.js'
import { Signer } from './connect/signed.js'
import { WebhookManager } from './connect/webhooks.js'
import {
  descriptorFor,
  PROVIDERS,
  ProviderRegistry,
  SUPPORTED_PROVIDERS,
} from './providers/registry.js'
import { ProviderApps } from './connect/apps.js'
import { GitHubManifestFlow, GITHUB_COM } from './connect/github-manifest.js'
import { HostSetup } from './connect/host-setup.js'
import { PipelineEngine } from './pipelines/engine.js'
import { CommandsSandbox } from './pipelines/isolation/sandbox.js'
import { ensureRootCredentials, type RootCredentials } from './bootstrap/root-credentials.js'
import { startAudit, type AuditLog } from './audit/index.js'

export interface RunningJunction {
  url: string
  port: number
  store: Store
  root: RootCredentials
  logger: Logger
  /** Provider webhooks Junction registered, and their ingress (pipelines use it). */
  webhooks: WebhookManager
  /** The pipeline engine (executions, event processing, webhook reconciliation). */
  pipelines: PipelineEngine
  /** The metrics registry when metrics are on (`--metrics`, `--metrics-port`). */
  metrics: Metrics | undefined
  /** `http://host:port/metrics` of the `--metrics-port` listener, when there is one. */
  metricsUrl: string | undefined
  /** The audit trail's writer (`--audit on`, the default); `flush()` writes what is buffered. */
  audit: AuditLog | undefined
  /** Writes buffered log lines out synchronously (before the process exits). */
  flushLogs(): void
  /** Graceful stop: stop accepting, finish in-flight requests, close the store. */
  close(): Promise<void>
}

export const VERSION = '0.1.0'

const SESSION_SWEEP_MS = 10 * 60 * 1000

export async function startJunction(
  config: Config,
  opts: {
    logger?: Logger
    env?: NodeJS.ProcessEnv
    /**
     * The clock of everything that expires: signatures and presigned URLs, temporary credentials,
     * the credential and policy caches, handshake state, signed links, console sessions and the
     * sign-in throttle (tests move it; see test/helpers/clocked-server.ts).
     */
    clock?: () => number
  } = {},
): Promise<RunningJunction> {
  // JSON lines (buffered, see server/logging.ts) or pretty ones on a terminal.
  const processLogger = opts.logger
    ? { logger: opts.logger, flush: () => {} }
    : createLogger({
        level: config.logLevel,
        format: logFormatFor(config.logFormat, process.stdout.isTTY),
      })
  const logger = processLogger.logger
  const flushLogs = processLogger.flush
  // Owner-only (0700), tightened if it existed looser: it holds master.key and the credentials.
  privateDir(config.dataDir)
  // Builds run isolated or not at all: checked before anything starts.
  const commandsSandbox =
    config.pipelines.enableCommands && config.pipelines.worker
      ? await CommandsSandbox.create({
          ...config.pipelines.commandsIsolation,
          hidden: [
            config.dataDir,
            config.pipelines.artifactDir,
            ...(isPostgresUrl(config.database) ? [] : [dirname(resolve(config.database))]),
          ],
        })
      : undefined
  if (commandsSandbox && !(commandsSandbox.cgroups.memory && commandsSandbox.cgroups.pids))
    logger.warn(
      { cgroups: commandsSandbox.cgroups },
      'Commands builds are limited by rlimits only (cgroup v1 memory and pids controllers not writable here): a build past its memory or process limit fails inside instead of being stopped',
    )
  const masterKey = MasterKey.load(config.dataDir, opts.env)
  const store = await openStore(config.database)
  try {
    await store.ensureAccount(config.accountId)
    const root = await ensureRootCredentials({ ...config, store, masterKey, env: opts.env })
    const now = opts.clock ?? Date.now
    const credentials = new CredentialResolver(store, masterKey, now)
    const authorizer = new Authorizer(store, undefined, now)
    const metrics = config.metrics
      ? new Metrics({ backlog: () => store.pipelines.events.backlog(), now })
      : undefined
    // With --port 0 and no --public-url the real port is known only after listening.
    let publicUrl = config.publicUrl.replace(/\/+$/, '')
    const currentPublicUrl = () => publicUrl
    const apps = new ProviderApps(
      store,
      masterKey,
      Object.fromEntries(PROVIDERS.map((p) => [p.type, config.providers[p.type]?.app ?? {}])),
      (type) => `${publicUrl}/oauth/${descriptorFor(type)?.path ?? type.toLowerCase()}/callback`,
    )
    await apps.load(SUPPORTED_PROVIDERS)
    const providers = new ProviderRegistry(
      Object.fromEntries(
        PROVIDERS.map((p) => {
          const endpoints = config.providers[p.type]?.endpoints
          return [
            p.type,
            {
              ...(endpoints ? { endpoints } : {}),
              app: () => apps.app(p.type),
              ...(metrics ? { http: { observe: (o) => metrics.providerCall(o) } } : {}),
            },
          ]
        }),
      ),
      (hostArn) => apps.appForHost(hostArn),
    )
    const keeper = new CredentialKeeper(store, masterKey, providers, logger, now)
    const connectSigner = new Signer(masterKey.derive('connect-tokens'), now)
    const connect = new ConnectService({
      store,
      keeper,
      providers,
      authorizer,
      signer: connectSigner,
      principalOf: async (accessKeyId) => (await credentials.lookup(accessKeyId))?.record,
      publicUrl: currentPublicUrl,
      region: config.region,
      logger,
      now,
    })
    const webhooks = new WebhookManager(store, keeper, currentPublicUrl, logger)
    webhooks.hostArnById = (hostId) => apps.hostArnById(hostId)
    if (metrics) {
      webhooks.onOutcome = (provider, outcome) => metrics.webhook(provider, outcome)
      keeper.observe = {
        refresh: (provider, ok) => metrics.credentialRefresh(provider, ok),
        failing: (provider) => metrics.credentialFailure(provider),
      }
    }
    const engine = new PipelineEngine({
      store,
      connect,
      keeper,
      webhooks,
      signer: new Signer(masterKey.derive('pipeline-links'), now),
      artifactDir: config.pipelines.artifactDir,
      artifactRetentionMs: config.pipelines.artifactRetentionMs,
      maxArtifactBytes: config.pipelines.maxArtifactBytes,
      maxSourceArchiveBytes: config.pipelines.maxSourceArchiveBytes,
      publicUrl: currentPublicUrl,
      logger,
      enableCommands: config.pipelines.enableCommands,
      commandsSandbox,
      commandsTimeoutMs: config.pipelines.commandsTimeoutMs,
      pollIntervalMs: config.pipelines.pollIntervalMs,
      pollBudgetPerHour: config.pipelines.pollBudgetPerHour,
      leaseMs: config.pipelines.leaseMs,
      ...(metrics ? { observe: metrics } : {}),
    })
    webhooks.onRecorded = () => engine.wake()
    // Failed sign-ins and wrong signatures, counted in this node's memory (server/throttle.ts).
    const throttle = new AuthThrottle({ logger, now })
    const verifier = new SigV4Verifier<Principal>(credentials.lookup, throttle, now)
    // Every API call and connection use (audit/, docs/audit.md), unless --audit off.
    const audit = config.audit.enabled
      ? startAudit({
          repository: store.audit,
          logger,
          partition: config.partition,
          region: config.region,
          now,
          retentionMs: config.audit.retentionMs,
          verifier,
          authorizer,
          connect,
          connectSigner,
          pageSigner: new Signer(masterKey.derive('audit-pages'), now),
        })
      : undefined
    const apiDeps = {
      verifier,
      authorizer,
      logger,
      context: {
        store,
        region: config.region,
        partition: config.partition,
        limits: {
          connections: config.connectionQuota,
          hosts: config.hostQuota,
          tagsPerResource: config.tagsPerResource,
        },
        vpcInitDelayMs: config.vpcInitDelayMs,
        pageTokens: new PageTokens(masterKey.derive('pagination')),
        now,
        onConnectionDeleted: () => engine.pipelinesChanged(),
      },
      audit: audit?.recorder,
      cloudtrail: audit?.cloudtrail,
    }
    const secure = () => publicUrl.startsWith('https:')
    // Junction's GitHub App in one click (and each GitHub Enterprise Server host's own).
    const githubApps = new GitHubManifestFlow({
      apps,
      store,
      signer: new Signer(masterKey.derive('github-manifest'), now),
      publicUrl: currentPublicUrl,
      githubEndpoints: () => config.providers['GitHub']?.endpoints ?? GITHUB_COM,
      now,
      logger,
      secure: secure(),
    })
    // Hosts whose servers register Junction's OAuth application from an admin token (GitLab).
    const hostSetup = new HostSetup({ apps, store, publicUrl: currentPublicUrl, now, logger })
    const pipelineApi = {
      verifier,
      authorizer,
      store,
      engine,
      pageTokens: apiDeps.context.pageTokens,
      region: config.region,
      partition: config.partition,
      now,
    }
    const consoleApp = new ConsoleApp({
      pipelines: pipelineApi,
      api: apiDeps,
      connect,
      lookupKey: async (id) => credentials.lookup(id),
      throttle,
      signer: new Signer(masterKey.derive('console'), now),
      csrfKey: masterKey.derive('console-csrf'),
      secure: secure(),
      publicUrl: currentPublicUrl,
      sessionTtlMs: config.consoleSessionTtlMs,
      apps,
      githubApps,
      hostSetup,
      providerApps: () =>
        PROVIDERS.map((p) => ({
          providerType: p.type,
          label: p.app.label,
          idLabel: p.app.idLabel,
          ...apps.info(p.type),
          callbackUrl: `${publicUrl}/oauth/${p.path}/callback`,
          endpoint: config.providers[p.type]?.endpoints.webUrl ?? '',
        })),
    })
    // /ready answers 503 from the moment a graceful stop begins.
    let shuttingDown = false
    const http = createHttpServer({
      ...apiDeps,
      pipelines: pipelineApi,
      console: consoleApp,
      extension: {
        verifier,
        authorizer,
        connect,
        store,
        region: config.region,
        githubApps,
        hostSetup,
      },
      web: {
        connect,
        webhooks,
        csrfKey: masterKey.derive('handshake-csrf'),
        secure: secure(),
        openLog: (token) => engine.openLogLink(token),
      },
      masterKey,
      credentials,
      iamLimits: IAM_LIMITS,
      maxBodyBytes: config.maxBodyBytes,
      // On the main port only without a listener of their own.
      metrics,
      metricsOnMainPort: metrics !== undefined && config.metrics?.port === undefined,
      health: () => ({ version: VERSION, store: store.engine, region: config.region }),
      ready: {
        readStore: () => store.accessKeys.get(root.accessKeyId),
        worker: config.pipelines.worker,
        engineRunning: () => engine.running,
        leaseMs: config.pipelines.leaseMs,
        closing: () => shuttingDown,
      },
    })
    // A moved clock is the server's time in its answers too (clients correct their skew by it).
    if (opts.clock)
      http.server.prependListener('request', (_req, res) =>
        res.setHeader('date', new Date(now()).toUTCString()),
      )
    await new Promise<void>((resolveListen, reject) => {
      http.server.once('error', reject)
      http.server.listen(config.port, config.host, () => {
        http.server.off('error', reject)
        resolveListen()
      })
    })
    const port = (http.server.address() as AddressInfo).port
    const host = config.host.includes(':') ? `[${config.host}]` : config.host
    const url = `http://${host}:${port}`
    if (config.publicUrlDerived) publicUrl = url
    let metricsServer: Server | undefined
    let metricsUrl: string | undefined
    if (metrics && config.metrics?.port !== undefined) {
      const m = config.metrics
      const listening = createMetricsServer(metrics)
      await new Promise<void>((resolveListen, reject) => {
        listening.once('error', reject)
        listening.listen(m.port, m.host, () => {
          listening.off('error', reject)
          resolveListen()
        })
      })
      metricsServer = listening
      const mPort = (listening.address() as AddressInfo).port
      metricsUrl = `http://${m.host.includes(':') ? `[${m.host}]` : m.host}:${mPort}/metrics`
    }
    logger.info(
      {
        url,
        ...(metrics ? { metrics: metricsUrl ?? `${url}/metrics` } : {}),
        store: store.engine,
        database: isPostgresUrl(config.database) ? 'postgres' : config.database,
        region: config.region,
        accountId: config.accountId,
        credentials: root.source,
        accessKeyId: root.accessKeyId,
      },
      'junction is listening',
    )
    // Expired temporary credentials are refused at once; this only keeps the table small.
    const sweeper = setInterval(() => {
      store.accessKeys
        .deleteExpired(Date.now())
        .catch((err: unknown) => logger.warn({ err }, 'sweeping expired sessions failed'))
      store.handshakes
        .deleteExpired(Date.now())
        .catch((err: unknown) => logger.warn({ err }, 'sweeping expired handshakes failed'))
      store.consoleSessions
        .deleteExpired(Date.now())
        .catch((err: unknown) => logger.warn({ err }, 'sweeping expired console sessions failed'))
    }, SESSION_SWEEP_MS).unref()
    // Installations in ERROR are retried: a credential that works again heals its connections.
    let rechecking = false
    const recheck = setInterval(() => {
      if (rechecking) return
      rechecking = true
      keeper
        .recheckFailing()
        .catch((err: unknown) => logger.warn({ err }, 'rechecking failing installations failed'))
        .finally(() => (rechecking = false))
    }, config.credentialRecheckMs).unref()
    // Provider applications changed on another node reach this one within 30 s.
    const appReload = setInterval(() => {
      apps
        .load(SUPPORTED_PROVIDERS)
        .catch((err: unknown) => logger.warn({ err }, 'reloading provider applications failed'))
    }, 30_000).unref()
    if (config.pipelines.worker) engine.run()
    let closing: Promise<void> | undefined
    return {
      url,
      port,
      store,
      root,
      logger,
      metrics,
      metricsUrl,
      webhooks,
      pipelines: engine,
      audit: audit?.log,
      flushLogs,
      close: () =>
        (closing ??= (async () => {
          shuttingDown = true
          clearInterval(sweeper)
          clearInterval(recheck)
          clearInterval(appReload)
          await engine.stop()
          commandsSandbox?.close()
          await http.drain()
          // Buffered audit events are written before the store closes.
          await audit?.log.close()
          if (metricsServer) {
            const ms = metricsServer
            const closed = new Promise<void>((r) => ms.close(() => r()))
            ms.closeAllConnections()
            await closed
          }
          await store.close()
        })()),
    }
  } catch (err) {
    await store.close()
    throw err
  }
}
