/**
 * @module audit
 * The audit trail (docs/audit.md): every authenticated API call on every endpoint and every use of
 * a connection, recorded with who, what, when, from where and the outcome, written in batches off
 * the request path, kept for `--audit-retention` days, and read through CloudTrail's LookupEvents.
 * `startAudit` wires it at the composition root.
 */
import type { Logger } from 'pino'
import type { ConnectService } from '../connect/service.js'
import type { Signer } from '../connect/signed.js'
import type { Authorizer } from '../iam/authorizer.js'
import type { Principal } from '../iam/principal.js'
import type { SigV4Verifier } from '../protocol/sigv4/verify.js'
import type { AuditRepository } from '../store/audit-store.js'
import type { CloudTrailDeps } from './cloudtrail-api.js'
import { AuditLog } from './log.js'
import { AuditRecorder } from './recorder.js'
import { auditConnectionUses, InFlight } from './uses.js'

export { AuditLog } from './log.js'
export { AuditRecorder } from './recorder.js'

export interface RunningAudit {
  log: AuditLog
  recorder: AuditRecorder
  cloudtrail: CloudTrailDeps
}

export function startAudit(o: {
  repository: AuditRepository
  logger: Logger
  partition: string
  region: string
  now: () => number
  retentionMs: number
  verifier: SigV4Verifier<Principal>
  authorizer: Authorizer
  connect: ConnectService
  /** The connect service's signer (archive links), to attribute archive downloads. */
  connectSigner: Signer
  /** Signs LookupEvents' NextToken. */
  pageSigner: Signer
}): RunningAudit {
  const log = new AuditLog({
    repository: o.repository,
    logger: o.logger,
    naming: { partition: o.partition, region: o.region },
    now: o.now,
    retentionMs: o.retentionMs,
  })
  const inFlight = new InFlight()
  auditConnectionUses(o.connect, log, inFlight, o.connectSigner, o.now)
  log.start()
  return {
    log,
    recorder: new AuditRecorder(log, inFlight, o.now),
    cloudtrail: {
      verifier: o.verifier,
      authorizer: o.authorizer,
      region: o.region,
      repository: o.repository,
      signer: o.pageSigner,
      now: o.now,
      retentionMs: o.retentionMs,
      flush: () => log.flush(),
    },
  }
}
