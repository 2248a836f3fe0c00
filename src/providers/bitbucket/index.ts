/**
 * @module providers/bitbucket
 * Bitbucket Cloud as Junction knows it: the adapter, its serve flags, its OAuth handshake, its
 * per-repository webhooks and the credentials `CompleteConnection` takes (one registry entry).
 */
import type { ProviderDescriptor } from '../descriptor.js'
import { BitbucketProvider } from './bitbucket-provider.js'
import { bitbucketCompletion } from './completion.js'
import { MAX_WEBHOOK_BYTES } from './webhook.js'

export const BITBUCKET_URL = 'https://bitbucket.org'
export const BITBUCKET_API_URL = 'https://api.bitbucket.org/2.0'

const flag = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

export const bitbucket: ProviderDescriptor = {
  type: 'Bitbucket',
  label: 'Bitbucket Cloud',
  path: 'bitbucket',
  handshake: 'oauth',
  webhooks: 'per-repository',
  maxWebhookBytes: MAX_WEBHOOK_BYTES,
  targetNoun: 'workspace',
  app: { label: 'Bitbucket Cloud (OAuth consumer)', idLabel: 'OAuth consumer key' },
  configFlags: [
    {
      name: 'bitbucket-url',
      help: `  --bitbucket-url <url>      Bitbucket web and Git base URL (default ${BITBUCKET_URL})`,
    },
    {
      name: 'bitbucket-api-url',
      help: `  --bitbucket-api-url <url>  Bitbucket REST base (default ${BITBUCKET_API_URL}, or <bitbucket-url>/2.0)`,
    },
    {
      name: 'bitbucket-client-id',
      help: '  --bitbucket-client-id <key>       Key of the Bitbucket OAuth consumer (callback <public-url>/oauth/bitbucket/callback)',
    },
    {
      name: 'bitbucket-client-secret',
      help: '  --bitbucket-client-secret <secret> Its secret (prefer JUNCTION_BITBUCKET_CLIENT_SECRET: argv is visible to ps)',
    },
  ],
  envHelp: `  JUNCTION_BITBUCKET_CLIENT_ID,
  JUNCTION_BITBUCKET_CLIENT_SECRET    the Bitbucket OAuth consumer instead of the flags`,
  readConfig(flags, env, tools) {
    const clientId = flag(flags['bitbucket-client-id']) ?? env['JUNCTION_BITBUCKET_CLIENT_ID']
    const clientSecret =
      flag(flags['bitbucket-client-secret']) ?? env['JUNCTION_BITBUCKET_CLIENT_SECRET']
    if (!!clientId !== !!clientSecret)
      throw tools.error(
        'Give both the Bitbucket OAuth consumer key and secret (--bitbucket-client-id and --bitbucket-client-secret, or JUNCTION_BITBUCKET_CLIENT_ID and JUNCTION_BITBUCKET_CLIENT_SECRET)',
      )
    const given = flag(flags['bitbucket-url'])
    const webUrl = tools.httpUrl('bitbucket-url', given ?? BITBUCKET_URL)
    // A self-run stand-in (the sandbox) serves REST under /2.0 of the same origin.
    const apiDefault = given ? `${webUrl}/2.0` : BITBUCKET_API_URL
    return {
      endpoints: {
        webUrl,
        apiUrl: tools.httpUrl('bitbucket-api-url', flag(flags['bitbucket-api-url']) ?? apiDefault),
      },
      app: clientId && clientSecret ? { clientId, clientSecret } : {},
    }
  },
  createAdapter: (s) => new BitbucketProvider(s),
  completion: bitbucketCompletion,
}
