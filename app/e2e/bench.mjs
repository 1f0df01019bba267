// The web app's figures, printed (nothing asserted): the initial JavaScript gzipped (budget
// 250 KB), page load to an interactive catalog, and the wallet's approval to `running` on the
// local stack. Run by `bash scripts/app-test.sh --bench` (the same stack as the browser tests).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { chromium } from 'playwright-core';

import { TestWallet } from './wallet.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const APP = process.env.CALOR_APP_URL ?? 'http://127.0.0.1:5173/';
const API = process.env.CALOR_API_URL ?? 'http://127.0.0.1:8080';
const LOADS = 7;
const RENTALS = 3;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. What the first page load fetches: index.html's scripts and their static imports
// (modulepreload), not the chunks loaded on demand.
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const gz = initial.reduce((sum, file) => sum + gzipSync(readFileSync(join(dist, file))).length, 0);
console.log(`initial JavaScript: ${initial.join(', ')}: ${(gz / 1024).toFixed(1)} KB gzipped (budget 250 KB)`);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });

// 2. Navigation start to the first catalog row with live data, fresh context each time (no cache).
const loads = [];
for (let i = 0; i < LOADS; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(APP);
  await page.locator('tr[data-gpu]').first().waitFor();
  loads.push(await page.evaluate(() => performance.now()));
  await context.close();
}
console.log(`page load → interactive catalog: median ${median(loads).toFixed(0)} ms over ${LOADS} loads (${loads.map((l) => l.toFixed(0)).join(', ')})`);

// 3. The wallet's answer to the open transaction → the job page says `running`.
const wallet = new TestWallet(process.env.CALOR_E2E_KEY ?? '.calor/keys/renter-app.json');
const context = await browser.newContext();
await wallet.install(context);
let approvedAt = 0;
const handle = wallet.handle.bind(wallet);
wallet.handle = (op, payload) => {
  const answer = handle(op, payload);
  if (op === 'signTransaction') approvedAt = Date.now();
  return answer;
};
const page = await context.newPage();
await page.goto(APP);
await page.getByRole('button', { name: 'Connect wallet' }).click();
await page.getByRole('button', { name: /Calor Test Wallet/ }).click();
await page.getByRole('button', { name: 'Sign out' }).waitFor();
const runs = [];
for (let i = 0; i < RENTALS; i++) {
  // in-page navigation: a reload would sign the wallet out
  await page.evaluate(() => {
    window.location.hash = '#/rent/1';
  });
  await page.getByRole('button', { name: 'Get a quote' }).click();
  const sign = page.getByRole('button', { name: /Sign and rent/ });
  await sign.waitFor({ timeout: 20_000 }).catch(async (e) => {
    throw new Error(`no quote: ${await page.getByRole('alert').allInnerTexts()}`, { cause: e });
  });
  await sign.click();
  await page.getByTestId('job-state').filter({ hasText: 'running' }).waitFor({ timeout: 120_000 });
  runs.push(Date.now() - approvedAt);
  await page.getByRole('button', { name: 'Stop and settle' }).click();
  await page.getByTestId('job-state').filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 });
  // the node is idle again once the provisioner has removed the instance and heartbeated
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const catalog = await fetch(`${API}/api/gpus`).then((r) => r.json());
    if (catalog.models.find((m) => m.id === 1)?.idleNodes > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
}
console.log(`wallet approval → running (the page's view, polled every 2 s): median ${(median(runs) / 1000).toFixed(1)} s over ${RENTALS} rentals (${runs.map((r) => (r / 1000).toFixed(1)).join(', ')} s)`);
await browser.close();
