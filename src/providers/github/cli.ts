/**
 * @module providers/github/cli
 * `junction connections complete` for GitHub: `--installation-id` (an installation of Junction's
 * GitHub App; no token read), or `--owner` with a fine-grained personal access token read from
 * `--token-file`, `--token-env` or standard input (see completion.ts).
 */
import type { CompletionCli } from '../descriptor.js'

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

export const githubCli: CompletionCli = {
  usage: `  junction connections complete --connection-arn <arn> --installation-id <id> [--owner <login>]
  junction connections complete --connection-arn <arn> --owner <login>
      [--token-file <file> | --token-env <VAR>] [client flags]`,
  help: `complete   GitHub: --installation-id completes with an installation of Junction's GitHub App
           (checked with the app's key; needs UpdateConnectionInstallation on that
           InstallationId); the connection reaches the repositories the installation was
           granted. --owner alone completes with a fine-grained personal access token of that
           user or organization (the weaker option: a user's long-lived token, no app
           webhooks, so pipelines poll), read from --token-file, --token-env or standard input.`,
  options: {
    'installation-id': { type: 'string' },
    owner: { type: 'string' },
  },
  tokenMember: 'AccessToken',
  needsToken: (values) => str(values['installation-id']) === undefined,
  input(values, tools) {
    const installationId = str(values['installation-id'])
    const owner = str(values['owner'])
    if (installationId !== undefined) {
      if (!/^[1-9][0-9]{0,19}$/.test(installationId))
        throw tools.usage('--installation-id must be a GitHub installation id (digits)')
      return { InstallationId: installationId, ...(owner ? { Owner: owner } : {}) }
    }
    if (!owner) throw tools.usage('Give --installation-id, or --owner with a personal access token')
    return { Owner: owner }
  },
  summary(i) {
    return `GitHub account ${String(i['Workspace'])}, installation ${String(i['InstallationId'])}`
  },
}
