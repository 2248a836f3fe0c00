/**
 * A clock a test moves: give `now` to a Junction (`startTestServer(…, { clock })`) and sign
 * requests with `offset` (the SDK's `systemClockOffset`, the raw client's `signingDate`) so that a
 * server an hour ahead still accepts them.
 */
export interface TestClock {
  now: () => number
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void
  /** How far ahead of the real time the clock is, in ms. */
  readonly offset: number
}

export function testClock(): TestClock {
  let offset = 0
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms
    },
    get offset() {
      return offset
    },
  }
}
