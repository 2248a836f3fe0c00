/**
 * Fault injection at the pipeline store of an in-process node: a hook that runs after each store
 * call (before its caller sees the result), and a freeze that makes the node behave as a killed
 * one towards the database (every later call of the node waits, and never writes).
 */
import type { Store } from '../../src/store/store.js'
import type { ActionExecutionRecord } from '../../src/store/pipeline-store.js'

const PARTS = ['executions', 'actions', 'stageLocks', 'polls', 'events'] as const

export interface StoreHooks {
  /** From now on the node's store calls wait (a node killed at this point). */
  freeze(): void
  /** Ends the waiting calls with an error (lets the frozen node close). */
  end(): void
}

/** The action execution a store call writes, if it writes one (whatever the method's shape). */
export function actionWritten(args: unknown[]): ActionExecutionRecord | undefined {
  return args.find(
    (a): a is ActionExecutionRecord =>
      typeof a === 'object' && a !== null && 'actionName' in a && 'status' in a,
  )
}

export function hookPipelineStore(
  store: Store,
  after: (call: string, args: unknown[], hooks: StoreHooks) => Promise<void> | void,
): StoreHooks {
  let frozen = false
  let fail!: (err: Error) => void
  const gone = new Promise<never>((_, reject) => (fail = reject))
  gone.catch(() => undefined)
  const hooks: StoreHooks = {
    freeze: () => void (frozen = true),
    end: () => fail(new Error('this node was killed')),
  }
  for (const part of PARTS) {
    const obj = store.pipelines[part] as unknown as Record<string, unknown>
    for (const [name, fn] of Object.entries(obj)) {
      if (typeof fn !== 'function') continue
      const real = fn as (...a: unknown[]) => Promise<unknown>
      obj[name] = async (...args: unknown[]) => {
        if (frozen) return gone
        const r = await real.apply(obj, args)
        await after(`${part}.${name}`, args, hooks)
        if (frozen) return gone
        return r
      }
    }
  }
  return hooks
}
