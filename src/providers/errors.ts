/**
 * @module providers/errors
 * What adapters throw. Core code maps these to AWS-shaped errors and connection health; the
 * messages never carry a token (adapters build them from status codes and provider messages only).
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    /** The provider's HTTP status, when there was an answer. */
    readonly status?: number,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** The credential was refused (expired, revoked, lacking scope): the connection needs attention. */
export class ProviderAuthFailed extends ProviderError {}

/** The repository, branch, commit or account does not exist or is not visible to the credential. */
export class ProviderNotFound extends ProviderError {}

/** The provider could not be reached or kept failing (5xx, 429) after retries. */
export class ProviderUnavailable extends ProviderError {}

/**
 * The provider answered 429 and the caller should not ask again before `retryAfterMs` (when the
 * provider said so with `Retry-After`; Bitbucket Cloud usually does not, and the caller backs off).
 */
export class ProviderRateLimited extends ProviderUnavailable {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message, 429)
  }
}

/** Any other refusal by the provider (a 4xx with a reason). */
export class ProviderRequestFailed extends ProviderError {}

/** A webhook delivery that must not be acted on: bad signature, malformed body. */
export class WebhookRejected extends ProviderError {}
