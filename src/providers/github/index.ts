/**
 * @module providers/github
 * GitHub as Junction knows it (docs/github.md): the adapter on a GitHub App, its serve flags, its
 * app-installation handshake (the browser installs the app; GitHub comes back to the setup URL
 * `<public-url>/oauth/github/callback`), its one app-level webhook (`<public-url>/webhooks/github`)
 * and the credentials `CompleteConnection` takes. GitHub Enterprise Server connections use the
 * same adapter with a host's endpoints (`enterpriseEndpoints`, `ProviderRegistry.forHost`).
 */
import { readFileSync } from 'node:fs'
import type { ProviderDescriptor } from '../descriptor.js'
import type { ProviderEndpoints } from '../provider.js'
import { GITHUB_DEFAULTS } from './client.js'
import { githubCompletion } from './completion.js'
import { GitHubProvider } from './github-provider.js'
import { MAX_WEBHOOK_BYTES } from './webhook.js'

export const GITHUB_URL = GITHUB_DEFAULTS.webUrl
export const GITHUB_API_URL = GITHUB_DEFAULTS.apiUrl

/** A GitHub Enterprise Server's endpoints from its host URL: `https://HOST`, `https://HOST/api/v3`. */
export function enterpriseEndpoints(providerEndpoint: string): ProviderEndpoints {
  const webUrl = providerEndpoint.replace(/\/+$/, '')
  return { webUrl, apiUrl: `${webUrl}/api/v3` }
}

const flag = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

export const github: ProviderDescriptor = {
  type: 'GitHub',
  label: 'GitHub',
  path: 'github',
  handshake: 'app-installation',
  webhooks: 'app',
  maxWebhookBytes: MAX_WEBHOOK_BYTES,
  targetNoun: 'account',
  app: { label: 'GitHub (GitHub App)', idLabel: 'GitHub App client id' },
  configFlags: [
    {
      name: 'github-url',
      help: `  --github-url <url>         GitHub web and Git base URL (default ${GITHUB_URL})`,
    },
    {
      name: 'github-api-url',
      help: `  --github-api-url <url>     GitHub REST base (default ${GITHUB_API_URL}, or <github-url>/api/v3)`,
    },
    {
      name: 'github-app-id',
      help: "  --github-app-id <id>              Numeric id of Junction's GitHub App",
    },
    {
      name: 'github-app-slug',
      help: '  --github-app-slug <slug>          Its URL name (github.com/apps/<slug>; setup URL <public-url>/oauth/github/callback)',
    },
    {
      name: 'github-client-id',
      help: '  --github-client-id <id>           Its client id (Iv1.… or Iv23…)',
    },
    {
      name: 'github-client-secret',
      help: '  --github-client-secret <secret>   Its client secret (prefer JUNCTION_GITHUB_CLIENT_SECRET: argv is visible to ps)',
    },
    {
      name: 'github-private-key-file',
      help: '  --github-private-key-file <file>  Its private key (PEM), which signs app JWTs (or JUNCTION_GITHUB_PRIVATE_KEY)',
    },
    {
      name: 'github-webhook-secret',
      help: '  --github-webhook-secret <secret>  Its webhook secret, for <public-url>/webhooks/github (prefer JUNCTION_GITHUB_WEBHOOK_SECRET)',
    },
  ],
  envHelp: `  JUNCTION_GITHUB_APP_ID, JUNCTION_GITHUB_APP_SLUG, JUNCTION_GITHUB_CLIENT_ID,
  JUNCTION_GITHUB_CLIENT_SECRET, JUNCTION_GITHUB_PRIVATE_KEY (the PEM itself),
  JUNCTION_GITHUB_WEBHOOK_SECRET     the GitHub App instead of the flags`,
  readConfig(flags, env, tools) {
    const pick = (name: string, envName: string) => flag(flags[name]) ?? (env[envName] || undefined)
    const keyFile = flag(flags['github-private-key-file'])
    let privateKey = env['JUNCTION_GITHUB_PRIVATE_KEY'] || undefined
    if (keyFile) {
      try {
        privateKey = readFileSync(keyFile, 'utf8')
      } catch (err) {
        throw tools.error(
          `--github-private-key-file: cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        )
      }
    }
    if (privateKey !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey))
      throw tools.error('The GitHub App private key is not a PEM private key')
    const appId = pick('github-app-id', 'JUNCTION_GITHUB_APP_ID')
    if (appId !== undefined && !/^[1-9][0-9]{0,19}$/.test(appId))
      throw tools.error('--github-app-id must be the numeric id of the GitHub App')
    const slug = pick('github-app-slug', 'JUNCTION_GITHUB_APP_SLUG')
    if (slug !== undefined && !/^[a-z0-9][a-z0-9-]{0,99}$/.test(slug))
      throw tools.error(
        "--github-app-slug must be the app's URL name (lower-case letters, digits, -)",
      )
    const clientId = pick('github-client-id', 'JUNCTION_GITHUB_CLIENT_ID')
    const clientSecret = pick('github-client-secret', 'JUNCTION_GITHUB_CLIENT_SECRET')
    if (!!clientId !== !!clientSecret)
      throw tools.error(
        'Give both the GitHub App client id and secret (--github-client-id and --github-client-secret, or JUNCTION_GITHUB_CLIENT_ID and JUNCTION_GITHUB_CLIENT_SECRET)',
      )
    const webhookSecret = pick('github-webhook-secret', 'JUNCTION_GITHUB_WEBHOOK_SECRET')
    const given = flag(flags['github-url'])
    const webUrl = tools.httpUrl('github-url', given ?? GITHUB_URL)
    // Anything but github.com serves REST under /api/v3 of the same origin (GHES, the sandbox).
    const apiDefault =
      given && new URL(webUrl).host !== 'github.com' ? `${webUrl}/api/v3` : GITHUB_API_URL
    const app = {
      ...(clientId && clientSecret ? { clientId, clientSecret } : {}),
      ...(appId ? { appId } : {}),
      ...(slug ? { slug } : {}),
      ...(privateKey ? { privateKey } : {}),
      ...(webhookSecret ? { webhookSecret } : {}),
    }
    return {
      endpoints: {
        webUrl,
        apiUrl: tools.httpUrl('github-api-url', flag(flags['github-api-url']) ?? apiDefault),
      },
      app,
    }
  },
  createAdapter: (s) => new GitHubProvider({ type: 'GitHub', ...s }),
  completion: githubCompletion,
}
