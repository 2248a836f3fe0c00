/**
 * Debian's Chromium driven by playwright-core (no browser download): headless, sandbox off (root
 * in CI), no background networking (the machine has no internet). Screenshots go to
 * `test-artifacts/` (not committed).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console')

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`,
    )
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** True when the page does not scroll sideways at its current width. */
export function noHorizontalScroll(page: Page): Promise<boolean> {
  return page.evaluate(
    'document.documentElement.scrollWidth <= document.documentElement.clientWidth',
  ) as Promise<boolean>
}

/** Form controls without a label (an associated <label> or aria-label). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(
    `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((c) => !(c.labels?.length || c.getAttribute('aria-label')))
      .map((c) => c.outerHTML.slice(0, 120))`,
  ) as Promise<string[]>
}
