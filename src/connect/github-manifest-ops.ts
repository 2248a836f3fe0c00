/**
 * @module connect/github-manifest-ops
 * Junction's own `StartGitHubAppRegistration` (beside the operations of server/extension.ts):
 * the one-time link that starts GitHub's manifest flow in the caller's browser, for github.com or
 * for one GitHub Enterprise Server host (`junction github app create`, `junction hosts setup`).
 * Only the account root registers apps (connect/github-manifest checks it).
 */
import type { ExtensionOperation } from '../server/extension.js'
import { InvalidInputException } from '../generated/errors.js'

export const githubManifestOperations: Record<string, ExtensionOperation> = {
  StartGitHubAppRegistration: {
    fields: {
      Organization: { type: 'string', max: 39 },
      Name: { type: 'string', max: 34 },
      HostArn: {
        type: 'string',
        max: 256,
        pattern: /^arn:aws(-[\w]+)*:.+:.+:[0-9]{12}:host\/.+$/,
      },
    },
    handle: async (caller, input, deps) => {
      if (!deps.githubApps)
        throw new InvalidInputException('This server does not register GitHub Apps')
      return deps.githubApps.start(caller.principal, {
        ...(input['Organization'] !== undefined
          ? { organization: input['Organization'] as string }
          : {}),
        ...(input['Name'] !== undefined ? { name: input['Name'] as string } : {}),
        ...(input['HostArn'] !== undefined ? { hostArn: input['HostArn'] as string } : {}),
      })
    },
  },
}
