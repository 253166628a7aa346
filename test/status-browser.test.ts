/**
 * The status page in a real browser: headless Chromium (Debian's package) loads it from the
 * extender serving the embedded demo cluster, at a desktop width and a phone's, and the test
 * looks for what an operator would. Its screenshots are the README's docs/status-page*.png
 * (`UPDATE_SCREENSHOTS=1 npx vitest run test/status-browser.test.ts` refreshes them).
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtenderProcess, type ExtenderProcess } from './support/extender-process.js';
import { fixture, post } from './support/http.js';

const CHROMIUM = '/usr/bin/chromium';
/** docs/ (the README's pictures) when asked, `UPDATE_SCREENSHOTS=1`; else a scratch directory, so that a test run leaves the checkout clean. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(dirname(fileURLToPath(import.meta.url)), '..', 'docs') : mkdtempSync(join(tmpdir(), 'status-screenshots-'));
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`status-browser: skipped, ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);

describe.skipIf(!haveChromium)('status page in headless Chromium', () => {
  let extender: ExtenderProcess;
  let browser: Browser;

  beforeAll(async () => {
    extender = await startExtenderProcess();
    // A refused filter call for the refusals section: team a's database pod, refused on n1..n3.
    const answer = await post(`${extender.url}/filter`, fixture('names/c-unsafe-filter.json'));
    expect(answer.status).toBe(200);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 60_000,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
      ],
      // launch() gives the browser a fresh profile of its own (playwright refuses --user-data-dir here).
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    extender?.stop();
  }, 60_000);

  it('at 1,280 px shows teams, profiles, idle nodes, the refusal and health, without JavaScript', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const response = await page.goto(`${extender.opsUrl}/status`, { timeout: 60_000 });
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('sysctl-extender status');

    const headings = await page.locator('section.team h3').allTextContents();
    expect(headings).toEqual(['Team a', 'Team b', 'Shared nodes']);
    // n5 runs team a's database pod: its profile in effect is the pod's, and it is busy.
    const n5 = page.locator('tr.node', { hasText: 'n5' }).first();
    await expect.poll(() => n5.textContent()).toContain('kernel.sem=250 32000 100 128, kernel.shmmax=68719476736');
    expect(await n5.locator('td[data-label="State"]').textContent()).toContain('busy');
    const n1 = page.locator('#team-a tr.node', { hasText: 'n1' });
    expect(await n1.locator('td[data-label="State"]').textContent()).toBe('idle');
    // n11's allow-list has a pattern the kubelet refuses.
    expect(await page.locator('tr.node', { hasText: 'n11' }).locator('td[data-label="State"]').textContent()).toContain('unreadable');

    const refusals = page.locator('#refusals');
    expect(await refusals.textContent()).toContain('team-a/c-unsafe');
    expect(await refusals.locator('tbody tr').first().textContent()).toMatch(/3 of 4.*other_team 1.*allow_list_undeclared 2|3 of 4.*allow_list_undeclared 2.*other_team 1/s);
    expect(await page.locator('#readiness').textContent()).toBe('ready');
    expect(await page.locator('#health').textContent()).toContain('Nodes12');
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toMatch(/^\d+$/);
    // Nothing but the page itself was fetched: no external asset, no script.
    expect(requests).toEqual([`${extender.opsUrl}/status`]);
    expect(await page.locator('script').count()).toBe(0);

    const screenshot = join(SCREENSHOTS, 'status-page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    await context.close();
  });

  it('at 390 px (a phone) stacks the tables and never scrolls sideways', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, javaScriptEnabled: true });
    const page = await context.newPage();
    await page.goto(`${extender.opsUrl}/status`, { timeout: 60_000 });
    // Strings: the test is compiled without the DOM's types.
    const { scrollWidth, innerWidth } = (await page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })')) as { scrollWidth: number; innerWidth: number };
    expect(innerWidth).toBe(390);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    // Each cell carries its column's name, since the header row is hidden.
    const cell = page.locator('#team-a tr.node').first().locator('td[data-label="Profile in effect"]');
    const before = await cell.evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }).getComputedStyle(td, '::before').content);
    expect(before).toBe('"Profile in effect"');
    expect(await page.locator('#team-a thead').isVisible()).toBe(false);
    await page.locator('#team-a').screenshot({ path: join(SCREENSHOTS, 'status-page-phone.png') });
    await context.close();
  });

  it('one team in full through ?team=, the shared nodes through ?team=-', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${extender.opsUrl}/status?team=-`, { timeout: 60_000 });
    expect(await page.locator('#shared tr.node').count()).toBe(8);
    expect(await page.locator('#team-a tr.node').count()).toBe(0);
    await page.locator('a', { hasText: 'All teams' }).click();
    expect(await page.locator('tr.node').count()).toBe(12);
    await context.close();
  });
});
