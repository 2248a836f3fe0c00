/**
 * @module providers/descriptor
 * What one Git provider brings to Junction besides its adapter: its names, its serve flags and
 * how they become endpoints and an application, how its handshake comes back, how its webhooks
 * are registered, and how `CompleteConnection` reads its credentials. Each provider exports one
 * descriptor (`providers/<name>/index.ts`) and `providers/registry.ts` lists them; core code (the
 * connect service, the web routes, the console, the CLI, the composition root) iterates the
 * registry and never names a provider.
 */
import type { FieldSpec } from '../server/extension.js'
import type { HttpClientOptions } from './http-client.js'
import type { GitProvider, OAuthApp, ProviderCredentials, ProviderEndpoints } from './provider.js'

/** The application the operator registered with the provider (flags, environment or console). */
export interface AppSettings {
  clientId?: string
  clientSecret?: string
  /** GitHub Apps: the numeric app id. */
  appId?: string
  /** GitHub Apps: the app's URL name (`/apps/{slug}/installations/new`). */
  slug?: string
  /** GitHub Apps: the app's private key (PEM), which signs app JWTs. */
  privateKey?: string
  /** Providers with one app-level webhook (GitHub Apps): the secret its deliveries are signed with. */
  webhookSecret?: string
}

/** A provider's part of the serve configuration. */
export interface ProviderConfig {
  endpoints: ProviderEndpoints
  app: AppSettings
}

/** What the adapter factory gets. */
export interface ProviderSettings {
  endpoints?: ProviderEndpoints
  app?: OAuthApp | (() => OAuthApp | undefined)
  http?: HttpClientOptions
}

/** A `junction serve` flag of the provider (a string option; `--help` prints `help`). */
export interface ProviderFlag {
  name: string
  /** Lines of `junction serve --help`, already aligned with the other flags. */
  help: string
}

/** Helpers the configuration reader gets from `config.ts` (so its errors read like the others). */
export interface ConfigTools {
  /** The value as an http(s) URL without a trailing slash, or a ConfigError naming `--<flag>`. */
  httpUrl(flag: string, value: string): string
  /** A configuration error (the CLI prints it and exits 2). */
  error(message: string): Error
}

/**
 * What `CompleteConnection` (completion without a browser) sends to the provider: the credential
 * the caller handed over, checked and narrowed, and the provider account it is for.
 */
export interface CompletionRequest {
  /**
   * The provider account the credential must reach (Bitbucket: a workspace slug); '' when the
   * credential names its own (a GitHub App installation: its account).
   */
  target: string
  credentials: ProviderCredentials
  /** Stored as the installation's `credentialKind` (shown as `CredentialType`). */
  credentialKind: string
  /**
   * Set when the credential is a user's that reaches the whole target: completing needs the user
   * to administer it, as the browser handshake does; this is the refusal when they do not.
   */
  administratorRequired?: string
}

/** `junction connections complete` for one provider: its flags and what they send. */
export interface CompletionCli {
  /** Its usage lines (the flags after `--connection-arn <arn>`), indented as the others. */
  usage: string
  /** Its paragraph of the command's help, indented as the others. */
  help: string
  /** Its own `parseArgs` options (the token flags and client flags are the CLI's). */
  options: Record<string, { type: 'string' | 'boolean' }>
  /**
   * The `CompleteConnection` members its flags give (ConnectionArn and the token aside).
   * `usage(message)` is a mistake in the flags (exit 2); `secret(file, what)` reads a file.
   */
  input(
    values: Record<string, string | boolean | undefined>,
    tools: { usage(message: string): Error; secret(file: string, what: string): string },
  ): Record<string, unknown>
  /** The member that carries the token the CLI reads (`--token-file`, `--token-env`, stdin). */
  tokenMember: string
  /** False when the flags complete without a token (a GitHub App installation id); default true. */
  needsToken?(values: Record<string, string | boolean | undefined>): boolean
  /** One line about the installation `CompleteConnection` answered (what it reaches). */
  summary(installation: Record<string, unknown>): string
}

/** How `CompleteConnection` reads a provider's credentials. */
export interface CompletionSpec {
  /** The API members beyond `ConnectionArn` (validated before anything is read). */
  fields: Record<string, FieldSpec>
  /**
   * Checks the members' meaning (kinds, reach, combinations) and builds the credential; nothing is
   * sent to the provider. @throws InvalidInputException with what to give instead.
   */
  parse(input: Record<string, unknown>, now: number): CompletionRequest
  /** The installation's `CredentialType` on the wire, from its stored `credentialKind`. */
  credentialType(credentialKind: string): string
  /** `junction connections complete`'s part for this provider. */
  cli: CompletionCli
}

/**
 * How a self-managed server of a hosted provider type is set up with an administrator's token
 * (GitLab self-managed): the token registers Junction's OAuth application on the server in one
 * call and is then dropped (connect/host-setup.ts).
 */
export interface AdminTokenHostSetup {
  /** The path of the browser routes the registered application redirects to (`gitlab`). */
  path: string
  /** What the token is, in the provider's words (`GitLab personal access token of an administrator`). */
  tokenNoun: string
  /** The scopes it needs, for forms, help and errors (`api`, and `admin_mode` where …). */
  tokenScopes: string
  /**
   * Registers an instance-level OAuth application for Junction on the server at `endpoint`
   * (the host's URL) with `token`, through `fetch` (which trusts the host's certificate).
   * @throws ProviderError subclasses whose message says what is missing (scope, role, admin mode).
   */
  registerApplication(o: {
    endpoint: string
    token: string
    name: string
    redirectUri: string
    fetch: typeof fetch
  }): Promise<{ clientId: string; clientSecret: string }>
}

export interface ProviderDescriptor {
  /** The `ProviderType` of the AWS API (`Bitbucket`, `GitHub`, …). */
  readonly type: string
  /** Shown in the console (`Bitbucket Cloud`). */
  readonly label: string
  /** The path segment of its browser routes: `/oauth/<path>/begin|callback|install`. */
  readonly path: string
  /**
   * How the browser handshake comes back: `oauth` — the provider's consent redirects with
   * `code` and `state` (Bitbucket, GitLab); `app-installation` — the provider redirects to a
   * setup URL with the installation it made (GitHub Apps).
   */
  readonly handshake: 'oauth' | 'app-installation'
  /**
   * `per-repository`: Junction registers a webhook on each repository a pipeline uses
   * (Bitbucket, GitLab); `app`: the provider sends every installation's events to one
   * application-level webhook (GitHub Apps), so nothing is registered per repository.
   */
  readonly webhooks: 'per-repository' | 'app'
  /**
   * The provider sends no webhook for some pushes (GitLab: none for a push moving more than three
   * refs at once), so repositories with a webhook are polled too, to fill the gap
   * (pipelines/poller.ts).
   */
  readonly pollBehindWebhooks?: boolean
  /** The largest webhook delivery the provider sends (larger ones are refused unread). */
  readonly maxWebhookBytes: number
  /** What one installation reaches, in the words of the provider (`workspace`). */
  readonly targetNoun: string
  /** The operator's application, as the console's settings page names it. */
  readonly app: { label: string; idLabel: string }
  /** The provider's `junction serve` flags. */
  readonly configFlags: ProviderFlag[]
  /** Its lines of `junction serve --help`'s Environment section, if it reads any. */
  readonly envHelp?: string
  /** The provider's configuration from its flags and environment. */
  readConfig(
    flags: Record<string, string | boolean | undefined>,
    env: NodeJS.ProcessEnv,
    tools: ConfigTools,
  ): ProviderConfig
  createAdapter(settings: ProviderSettings): GitProvider
  completion: CompletionSpec
}
