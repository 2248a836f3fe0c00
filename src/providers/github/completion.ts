/**
 * @module providers/github/completion
 * The credentials GitHub connections are completed with without a browser (docs/github.md):
 * - an installation of Junction's GitHub App (`InstallationId`): checked with the app JWT
 *   (`GET /app/installations/{id}`: this app's, not suspended), and authorized with
 *   `UpdateConnectionInstallation` on that `InstallationId`; the connection reaches the
 *   repositories the installation was granted, through installation tokens minted per use;
 * - a fine-grained personal access token (`AccessToken` with `Owner`), the weaker option for teams
 *   that cannot install apps: a user's long-lived token, checked against `GET /user` (or the
 *   organization `Owner` names) and narrowed to that owner's repositories it reaches; it gets no
 *   app webhook deliveries (its pipelines are polled).
 */
import { InvalidInputException } from '../../generated/errors.js'
import type { CompletionRequest, CompletionSpec } from '../descriptor.js'
import type { ProviderCredentials } from '../provider.js'
import { githubCli } from './cli.js'

/** The installation's `credentialKind` for each `CredentialType`. */
export const GITHUB_CREDENTIAL_KINDS = {
  AppInstallation: 'github-installation',
  PersonalAccessToken: 'personal-access-token',
} as const

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)

export const githubCompletion: CompletionSpec = {
  fields: {
    InstallationId: { type: 'string', max: 20, pattern: /^[0-9]+$/ },
    Owner: { type: 'string', max: 39, pattern: /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/ },
    AccessToken: { type: 'string', max: 4096 },
  },
  parse(i): CompletionRequest {
    const installationId = str(i['InstallationId'])
    const owner = str(i['Owner'])
    const token = str(i['AccessToken'])
    if (installationId !== undefined && token !== undefined)
      throw new InvalidInputException(
        'Give either InstallationId (an installation of the GitHub App) or AccessToken (a personal access token), not both',
      )
    if (installationId !== undefined) {
      if (!/^[1-9][0-9]{0,19}$/.test(installationId))
        throw new InvalidInputException('InstallationId must be a GitHub installation id (digits)')
      const credentials: ProviderCredentials = {
        kind: 'github-installation',
        installationId,
        accessToken: '',
      }
      // '' = the installation's own account (GitHub names it); Owner, when given, must match it.
      return {
        target: owner ?? '',
        credentials,
        credentialKind: GITHUB_CREDENTIAL_KINDS.AppInstallation,
      }
    }
    if (!token)
      throw new InvalidInputException(
        'Give InstallationId (an installation of the GitHub App), or AccessToken and Owner (a fine-grained personal access token)',
      )
    if (!owner)
      throw new InvalidInputException(
        'A personal access token needs Owner: the user or organization whose repositories it reaches',
      )
    return {
      target: owner,
      credentials: { kind: 'access-token', accessToken: token },
      credentialKind: GITHUB_CREDENTIAL_KINDS.PersonalAccessToken,
    }
  },
  credentialType: (kind) =>
    kind === GITHUB_CREDENTIAL_KINDS.PersonalAccessToken
      ? 'PersonalAccessToken'
      : 'AppInstallation',
  cli: githubCli,
}
