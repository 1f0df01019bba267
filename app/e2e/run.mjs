// The web app in a real browser (Debian's Chromium driven by playwright-core) against the real
// local stack: chain + program, provisioner on Podman, API. The wallet is a Wallet Standard test
// wallet whose key stays in this process (wallet.mjs). Started by scripts/app-test.sh, which
// brings the stack up and serves the built app; every page is screenshot at desktop and phone
// width under e2e/screenshots/ and checked with axe (no serious or critical violation).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import AxeBuilder from '@axe-core/playwright';
import {
  AccountRole,
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
} from '@solana/kit';
import { chromium } from 'playwright-core';

import { TestWallet } from './wallet.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.CALOR_APP_URL ?? 'http://127.0.0.1:5173/';
const KEY = process.env.CALOR_E2E_KEY ?? '.calor/keys/renter-app.json';
const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
let failures = 0;

async function step(name, run) {
  const started = Date.now();
  try {
    await run();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}

async function accessible(page, name) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`),
    [],
    `axe on ${name}`,
  );
}

async function shoot(page, name) {
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(shots, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const wallet = new TestWallet(KEY);
const context = await browser.newContext({ viewport: VIEWPORTS.desktop, colorScheme: 'light' });
await wallet.install(context);
const page = await context.newPage();
page.on('pageerror', (e) => console.log(`page error: ${e.message}`));

await step('the catalog shows live availability from the chain', async () => {
  await page.goto(APP);
  const row = page.locator('tr[data-gpu]').first();
  await row.waitFor({ timeout: 20_000 });
  await page.getByText(/idle \/ \d+/).first().waitFor();
  assert.match(await page.locator('tbody').innerText(), /\$\d+\.\d\d/, 'a market rate is shown');
  await accessible(page, 'catalog');
  await shoot(page, 'catalog');
});

await step('filters: a model that does not exist empties the table with a reason', async () => {
  await page.getByRole('searchbox', { name: 'Model' }).fill('no-such-gpu');
  await page.getByText('No GPU matches').waitFor();
  await page.getByRole('searchbox', { name: 'Model' }).fill('');
});

await step('a rejected sign-in charges nothing and says so', async () => {
  wallet.rejectNext = true;
  await page.getByRole('button', { name: 'Connect wallet' }).click();
  await page.getByRole('button', { name: /Calor Test Wallet/ }).click();
  await page.getByRole('alert').filter({ hasText: 'declined' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Connect wallet' }).isVisible());
});

await step('connect and sign in with the wallet', async () => {
  await page.getByRole('button', { name: 'Connect wallet' }).click();
  await page.getByRole('button', { name: /Calor Test Wallet/ }).click();
  await page.getByText(`${wallet.address.slice(0, 4)}…${wallet.address.slice(-4)}`).waitFor({ timeout: 15_000 });
  assert.ok(wallet.requests.includes('signIn'), 'the wallet was asked to sign in');
});

await step('the jobs page, signed in', async () => {
  await page.getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('heading', { name: 'Your jobs' }).waitFor();
  await page.getByText('No jobs match').waitFor({ timeout: 15_000 });
  await accessible(page, 'jobs');
  await shoot(page, 'jobs');
});

const RPC = process.env.CALOR_RPC ?? 'http://127.0.0.1:8899';
const API = process.env.CALOR_API ?? 'http://127.0.0.1:8080';
async function rpc(method, params) {
  const response = await fetch(RPC, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** The rental the job page shows (its "Rental <address> · …" line). */
async function rentalShown() {
  return (await page.getByText(/^Rental /).innerText()).split(' ')[1];
}

/** Types `command` in the open web terminal and waits for `output` on its screen. */
async function runInTerminal(command, output) {
  await page.getByTestId('terminal').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
  if (output) await page.locator('.xterm-rows').filter({ hasText: output }).waitFor({ timeout: 15_000 });
}

await step('rent with SOL until running: quote, the wallet signs, the provider starts it', async () => {
  // quoted and built in the browser, sent to the RPC node: the API neither builds nor relays it
  const apiWrites = [];
  const watch = (request) => {
    if (request.method() === 'POST' && /\/api\/(jobs|tx)$/.test(new URL(request.url()).pathname)) apiWrites.push(request.url());
  };
  page.on('request', watch);
  await page.getByRole('link', { name: 'GPUs' }).click();
  await page.getByRole('link', { name: 'Rent H100 PCIe' }).click();
  await page.getByRole('heading', { name: /Rent H100 PCIe/ }).waitFor();
  // a key the program would refuse is named on the form, before any quote or signature
  const key = page.getByLabel(/SSH public key/);
  await key.fill('no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/ me');
  await page.getByRole('alert').filter({ hasText: /would be refused: not an ssh-ed25519/ }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Get a quote' }).isDisabled(), 'no quote for a refused key');
  await key.fill('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/ me');
  await page.getByRole('alert').filter({ hasText: /would be refused/ }).waitFor({ state: 'detached' });
  await key.fill('');
  await page.getByLabel('Hours').fill('1');
  await page.getByRole('button', { name: 'Get a quote' }).click();
  await page.getByRole('alert').filter({ hasText: /minimum/i }).waitFor();
  await page.getByLabel('Hours').fill('3');
  await page.getByRole('button', { name: 'Get a quote' }).click();
  await page.getByTestId('quote-amount').waitFor();
  assert.match(await page.getByTestId('quote-amount').innerText(), /\$6\.00 = 0\.0\d+ SOL/);
  await accessible(page, 'rent');
  await shoot(page, 'rent');
  // the wallet declines: nothing is sent, nothing is charged, and the page says so
  const held = (await rpc('getBalance', [wallet.address, { commitment: 'confirmed' }])).value;
  wallet.rejectNext = true;
  await page.getByRole('button', { name: /Sign and rent/ }).click();
  await page.getByRole('alert').filter({ hasText: 'the wallet declined to sign the transaction: nothing was signed or charged' }).waitFor();
  assert.match(page.url(), /#\/rent\/1$/);
  assert.equal((await rpc('getBalance', [wallet.address, { commitment: 'confirmed' }])).value, held, 'nothing charged');
  await page.getByRole('button', { name: /Sign and rent/ }).click();
  await page.waitForURL(/#\/jobs\//);
  page.off('request', watch);
  assert.deepEqual(apiWrites, [], 'the SOL quote and open did not go through the API');
  await page.getByTestId('job-state').filter({ hasText: 'running' }).waitFor({ timeout: 90_000 });
});

await step('the web terminal: the wallet signs the access message, a command runs', async () => {
  await page.getByRole('button', { name: 'Open the web terminal' }).click();
  await page.getByText('Connected: a root shell in /workspace.').waitFor({ timeout: 30_000 });
  await runInTerminal('echo calor-$((6 * 7)) in $(pwd)', 'calor-42 in /workspace');
  await accessible(page, 'job');
  await shoot(page, 'job-running');
});

/** Whether process `pid` still runs (a zombie waiting for its parent does not). */
function running(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

await step('the provider restarts: the terminal says so, reconnects by itself, and the same instance answers', async () => {
  await runInTerminal('echo $((40 + 2))-survived > /tmp/calor-marker');
  const old = Number(readFileSync('.calor/provisioner.pid', 'utf8'));
  process.kill(old, 'SIGTERM');
  // said in the terminal itself (it stays there) and beside it
  await page.locator('.xterm-rows').filter({ hasText: 'connection lost: the provisioner is shutting down' }).waitFor({ timeout: 30_000 });
  await page.getByText(/^Connection lost \(.+\): reconnecting/).waitFor({ timeout: 10_000 });
  const deadline = Date.now() + 30_000;
  while (running(old) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!running(old), 'the provisioner stopped within 30 s');
  execFileSync('bash', ['-c', 'source scripts/local-tools.sh && start_local_provisioner "$CALOR_BIN"'], { stdio: 'inherit' });
  await page.getByText('Connected: a root shell in /workspace.').waitFor({ timeout: 60_000 });
  await runInTerminal('cat /tmp/calor-marker', '42-survived');
  await shoot(page, 'job-reconnected');
});

await step('Jupyter: the wallet signs, the provider gives the secret, Jupyter answers with it', async () => {
  // the URL the new tab asks for (read from its request: a Jupyter still starting leaves the
  // tab on Chromium's error page, whose own URL no longer says where it went)
  const [request] = await Promise.all([
    context.waitForEvent('request', (r) => r.url().includes('token=')),
    page.getByRole('button', { name: 'Open Jupyter' }).click(),
  ]);
  const url = new URL(request.url());
  for (const tab of context.pages()) if (tab !== page) await tab.close();
  const token = url.searchParams.get('token');
  assert.ok(token && token.length === 64, `a secret in ${url}`);
  const deadline = Date.now() + 60_000;
  let status = 0;
  while (Date.now() < deadline && status !== 200) {
    status = await fetch(new URL(`/api/status?token=${token}`, url)).then((r) => r.status, () => 0);
    if (status !== 200) await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(status, 200, 'Jupyter answers with the secret');
  assert.equal(await fetch(new URL('/api/status', url)).then((r) => r.status), 403, 'and refuses without it');
});

await step('extend by an hour: quoted in the browser, the wallet signs, the chain takes exactly the quote', async () => {
  const rental = await rentalShown();
  const before = await rpc('getBalance', [rental, { commitment: 'confirmed' }]);
  await page.getByLabel('Extend by (hours)').fill('1');
  await page.getByRole('button', { name: 'Quote the extension' }).click();
  const quote = page.getByTestId('extend-quote');
  await quote.waitFor();
  const quoted = await quote.innerText();
  assert.match(quoted, /^1 h more: \$2\.00 = 0\.0\d+ SOL$/, 'no minimum for an extension');
  await page.getByRole('button', { name: 'Sign and extend' }).click();
  await page.getByRole('status').filter({ hasText: 'Extended by 1 h' }).waitFor({ timeout: 30_000 });
  const after = await rpc('getBalance', [rental, { commitment: 'confirmed' }]);
  assert.equal(`${((after.value - before.value) / 1e9).toFixed(6)} SOL`, quoted.split(' = ')[1], 'the escrow grew by the quote');
  await page.locator('.timeline li').filter({ hasText: 'extended' }).waitFor({ timeout: 30_000 });
  await page.getByText(/· 4 h at \$2\.00\/h/).waitFor({ timeout: 15_000 });
});

await step('stop: the settlement shown is the chain\'s', async () => {
  // the rental account's rent comes back with the refund: the chain says how much it is
  const rental = await rentalShown();
  const account = await rpc('getAccountInfo', [rental, { encoding: 'base64', commitment: 'confirmed' }]);
  const size = Buffer.from(account.value.data[0], 'base64').length;
  const rent = await rpc('getMinimumBalanceForRentExemption', [size]);
  await page.getByRole('button', { name: 'Stop and settle' }).click();
  await page.getByTestId('job-state').filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 });
  const settled = page.locator('.timeline li').filter({ hasText: 'settled' }).getByRole('link');
  await settled.waitFor({ timeout: 60_000 });
  await page.getByTestId('terminal').waitFor({ state: 'detached', timeout: 15_000 });
  const signature = new URL(await settled.getAttribute('href')).pathname.split('/').pop();
  const tx = await rpc('getTransaction', [signature, { encoding: 'json', maxSupportedTransactionVersion: 0, commitment: 'confirmed' }]);
  const delta = tx.meta.postBalances[0] - tx.meta.preBalances[0];
  const refund = delta + tx.meta.fee - rent;
  await page.getByTestId('refund').filter({ hasText: 'SOL' }).waitFor();
  assert.equal(await page.getByTestId('refund').innerText(), `${(refund / 1e9).toFixed(6)} SOL`);
  await shoot(page, 'job-settled');
});

await step('not enough SOL: said before the wallet is asked to sign', async () => {
  const poor = new TestWallet(process.env.CALOR_E2E_POOR_KEY ?? '.calor/keys/renter-poor.json');
  const other = await browser.newContext({ viewport: VIEWPORTS.desktop });
  await poor.install(other);
  const tab = await other.newPage();
  await tab.goto(`${APP}#/rent/1`);
  await tab.getByRole('button', { name: 'Connect wallet' }).click();
  await tab.getByRole('button', { name: /Calor Test Wallet/ }).click();
  await tab.getByRole('button', { name: 'Get a quote' }).click();
  await tab.getByRole('alert').filter({ hasText: /wallet holds 0/ }).waitFor({ timeout: 15_000 });
  assert.ok(!poor.requests.includes('signTransaction'), 'no transaction was put to the wallet');
  await other.close();
});

/** The wallet's token accounts (its Calor), parsed by the RPC node. */
async function tokenAccounts(owner) {
  const { value } = await rpc('getTokenAccountsByOwner', [
    owner,
    { programId: 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA' },
    { encoding: 'jsonParsed', commitment: 'confirmed' },
  ]);
  return value.map((a) => a.account.data.parsed.info);
}

/** Calor base units the wallet holds, as the RPC node reports its token accounts. */
async function calorHeld(owner) {
  return (await tokenAccounts(owner)).reduce((sum, info) => sum + BigInt(info.tokenAmount.amount), 0n);
}

await step('stake and unstake Calor: each a transaction the wallet signs, the chain moves the tokens', async () => {
  await page.getByRole('link', { name: 'Staking' }).click();
  await page.getByRole('heading', { name: 'Staking' }).waitFor();
  await page.getByTestId('calor-balance').waitFor({ timeout: 15_000 });
  const before = await calorHeld(wallet.address);
  assert.ok(before >= 1_500_000_000n, `the test wallet holds Calor (${before})`);
  const amount = page.getByLabel('Amount (Calor)');
  await amount.fill('1,500');
  await page.getByRole('alert').filter({ hasText: 'Enter an amount of Calor' }).waitFor();
  assert.ok(await page.getByRole('button', { name: /^(Stake|Add to stake)$/ }).isDisabled(), 'no transaction for a bad amount');
  await amount.fill('1500');
  await page.getByRole('button', { name: /^(Stake|Add to stake)$/ }).click();
  await page.getByRole('status').filter({ hasText: 'Staked 1,500 Calor: it earns from the next epoch.' }).waitFor({ timeout: 30_000 });
  assert.equal(await calorHeld(wallet.address), before - 1_500_000_000n, 'the chain took exactly 1,500 Calor');
  await page.getByTestId('stake-pending').filter({ hasText: /^[\d,]+ Calor$/ }).waitFor();
  // nothing earned yet: the claim is not offered, and the page says why
  assert.ok(await page.getByRole('button', { name: 'Claim rewards' }).isDisabled());
  await page.getByText('Nothing to claim yet').waitFor();
  await accessible(page, 'staking');
  await shoot(page, 'staking');
  await amount.fill('500');
  await page.getByRole('button', { name: 'Unstake' }).click();
  await page.getByRole('status').filter({ hasText: 'Unstaked 500 Calor' }).waitFor({ timeout: 30_000 });
  assert.equal(await calorHeld(wallet.address), before - 1_000_000_000n, 'the chain gave back exactly 500 Calor');
});

await step('rent with Calor, extend it in Calor, and see the burn: built in the browser, settled, the burn shown is the chain\'s', async () => {
  await page.getByRole('link', { name: 'GPUs' }).click();
  await page.getByRole('link', { name: 'Rent H100 PCIe' }).click();
  await page.getByRole('heading', { name: /Rent H100 PCIe/ }).waitFor();
  await page.getByLabel('Calor (subsidised, part burned)').check();
  await page.getByLabel('Hours').fill('5');
  await page.getByRole('button', { name: 'Get a quote' }).click();
  // $10 of market time, half paid by the subsidy: $5.00 at the local $0.05 a Calor
  await page.getByTestId('quote-amount').filter({ hasText: '$5.00 = 100 Calor' }).waitFor();
  await shoot(page, 'rent-calor');
  await page.getByRole('button', { name: /Sign and rent/ }).click();
  await page.waitForURL(/#\/jobs\//);
  await page.getByTestId('job-state').filter({ hasText: 'running' }).waitFor({ timeout: 90_000 });
  // extend by an hour in Calor: $2.00 of market time, half subsidised at open, at $0.05 a Calor
  const held = await calorHeld(wallet.address);
  await page.getByLabel('Extend by (hours)').fill('1');
  await page.getByRole('button', { name: 'Quote the extension' }).click();
  await page.getByTestId('extend-quote').filter({ hasText: '1 h more: $1.00 = 20 Calor' }).waitFor();
  await page.getByRole('button', { name: 'Sign and extend' }).click();
  await page.getByRole('status').filter({ hasText: 'Extended by 1 h' }).waitFor({ timeout: 30_000 });
  assert.equal(held - (await calorHeld(wallet.address)), 20_000_000n, 'the extension took exactly the quoted 20 Calor');
  await page.getByText(/· 6 h at \$2\.00\/h/).waitFor({ timeout: 15_000 });
  const [{ mint }] = await tokenAccounts(wallet.address);
  const supply = async () => BigInt((await rpc('getTokenSupply', [mint, { commitment: 'confirmed' }])).value.amount);
  const before = await supply();
  await page.getByRole('button', { name: 'Stop and settle' }).click();
  await page.getByTestId('job-state').filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 });
  await page.locator('.timeline li').filter({ hasText: 'settled' }).waitFor({ timeout: 60_000 });
  const burned = before - (await supply());
  assert.ok(burned > 0n, 'settling a Calor rental burns Calor');
  await page.getByTestId('burned').filter({ hasText: `${(Number(burned) / 1e6).toFixed(6)} Calor` }).waitFor({ timeout: 15_000 });
  await shoot(page, 'job-calor-settled');
});

/**
 * Burns all of the wallet's Calor and closes its token account, signed here by the test
 * wallet's key: settlement then cannot pay the renter, so the program holds the refund.
 */
async function closeCalorAccount(owner) {
  const [held] = await tokenAccounts(owner);
  const { value } = await rpc('getTokenAccountsByOwner', [owner, { mint: held.mint }, { encoding: 'base64', commitment: 'confirmed' }]);
  const account = address(value[0].pubkey);
  const tokenProgram = address(value[0].account.owner);
  const signer = createNoopSigner(address(owner));
  const burn = new Uint8Array(9);
  burn[0] = 8; // Burn
  new DataView(burn.buffer).setBigUint64(1, BigInt(held.tokenAmount.amount), true);
  const instructions = [
    {
      programAddress: tokenProgram,
      accounts: [
        { address: account, role: AccountRole.WRITABLE },
        { address: address(held.mint), role: AccountRole.WRITABLE },
        { address: signer.address, role: AccountRole.READONLY_SIGNER, signer },
      ],
      data: burn,
    },
    {
      programAddress: tokenProgram,
      accounts: [
        { address: account, role: AccountRole.WRITABLE },
        { address: signer.address, role: AccountRole.WRITABLE },
        { address: signer.address, role: AccountRole.READONLY_SIGNER, signer },
      ],
      data: new Uint8Array([9]), // CloseAccount
    },
  ];
  const { value: blockhash } = await rpc('getLatestBlockhash', [{ commitment: 'confirmed' }]);
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(signer.address, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ ...blockhash, lastValidBlockHeight: BigInt(blockhash.lastValidBlockHeight) }, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const wire = wallet.signTransaction(getTransactionEncoder().encode(compileTransaction(message)));
  const signature = await rpc('sendTransaction', [Buffer.from(wire).toString('base64'), { encoding: 'base64', preflightCommitment: 'confirmed' }]);
  for (let i = 0; i < 60; i++) {
    const { value: [status] } = await rpc('getSignatureStatuses', [[signature]]);
    if (status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized') {
      assert.equal(status.err, null, 'burning and closing the Calor account');
      return held.mint;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('closing the Calor account was not confirmed');
}

await step('a refund the wallet cannot receive is held, then claimed in the app: the chain pays what was held', async () => {
  await page.getByRole('link', { name: 'GPUs' }).click();
  await page.getByRole('link', { name: 'Rent H100 PCIe' }).click();
  await page.getByLabel('Calor (subsidised, part burned)').check();
  await page.getByLabel('Hours').fill('5');
  await page.getByRole('button', { name: 'Get a quote' }).click();
  await page.getByTestId('quote-amount').filter({ hasText: '$5.00 = 100 Calor' }).waitFor();
  await page.getByRole('button', { name: /Sign and rent/ }).click();
  await page.waitForURL(/#\/jobs\//);
  await page.getByTestId('job-state').filter({ hasText: 'running' }).waitFor({ timeout: 90_000 });
  await closeCalorAccount(wallet.address);
  assert.equal(await calorHeld(wallet.address), 0n);
  await page.getByRole('button', { name: 'Stop and settle' }).click();
  await page.getByTestId('job-state').filter({ hasText: 'refund held' }).waitFor({ timeout: 60_000 });
  await page.getByTestId('refund').filter({ hasText: 'held: claim it' }).waitFor({ timeout: 15_000 });
  assert.equal(await calorHeld(wallet.address), 0n, 'nothing was paid to the closed account');
  await shoot(page, 'job-refund-held');
  await page.getByRole('button', { name: 'Claim the refund' }).click();
  await page.getByTestId('refund').filter({ hasText: 'was held; claimed' }).waitFor({ timeout: 60_000 });
  // the refund shown (the settlement's event, through the index) is what the chain paid
  const paid = await calorHeld(wallet.address);
  assert.ok(paid > 0n, 'the claim paid Calor into the recreated account');
  assert.equal(await page.getByTestId('refund').innerText(), `${(Number(paid) / 1e6).toFixed(6)} Calor (was held; claimed)`);
  await shoot(page, 'job-refund-claimed');
});

await step('the jobs page filters by status and by region', async () => {
  await page.getByRole('link', { name: 'Jobs' }).click();
  await page.getByLabel('Status').selectOption('completed');
  await page.locator('.jobs li').filter({ hasText: 'completed' }).nth(1).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('.jobs li').filter({ hasText: 'running' }).count(), 0);
  // this run's rentals went to the nearest region with capacity: none is pinned
  await page.getByLabel('Region (pinned)').selectOption({ index: 1 });
  await page.getByText('No jobs match').waitFor({ timeout: 15_000 });
  await page.getByLabel('Status').selectOption('all');
  await page.getByLabel('Region (pinned)').selectOption('');
});

await step('the network page: the network now, and hour by hour from the index', async () => {
  await page.getByRole('link', { name: 'Network' }).click();
  await page.getByRole('heading', { name: 'Network' }).waitFor();
  await page.getByTestId('network-now').waitFor({ timeout: 15_000 });
  await page.locator('figure.chart canvas').nth(2).waitFor({ timeout: 15_000 });
  const history = await fetch(`${API}/api/network/history?hours=24`).then((r) => r.json());
  assert.equal(history.length, 24);
  assert.ok(history.some((h) => h.busyGpuHours > 0), 'the rentals this run served are GPU-hours');
  const burned = history.reduce((sum, h) => sum + h.burned, 0);
  assert.ok(burned > 0, 'the Calor rental burned');
  await page.getByTestId('total-burned').filter({ hasText: `${(burned / 1e6).toFixed(6)} Calor` }).waitFor();
  await accessible(page, 'network');
  await shoot(page, 'network');
});

await step('claim: two epoch ends share the Calor rental\'s fee with the stake; the wallet signs the claim; the chain pays what was shown', async () => {
  // the stake (1,000 Calor deposited this epoch) earns from the next one; the fee's share for
  // stakers waits for an epoch with earning stake, so it is shared at the second end
  for (let i = 0; i < 2; i++) execFileSync(join(process.env.CALOR_BIN, 'calor-dev'), ['end-epoch'], { stdio: 'inherit' });
  await page.getByRole('link', { name: 'Staking' }).click();
  await page.getByTestId('stake-active').filter({ hasText: '1,000 Calor' }).waitFor({ timeout: 15_000 });
  const claim = page.getByRole('button', { name: 'Claim rewards' });
  await page.waitForFunction(() => !document.querySelector('[data-testid="rewards-pending"]')?.textContent?.startsWith('0 '), null, { timeout: 40_000 });
  assert.ok(!(await claim.isDisabled()), 'something to claim');
  const shown = await page.getByTestId('rewards-pending').innerText();
  const before = await calorHeld(wallet.address);
  await claim.click();
  await page.getByRole('status').filter({ hasText: /^Claimed / }).waitFor({ timeout: 30_000 });
  const gained = (await calorHeld(wallet.address)) - before;
  assert.ok(gained > 0n, 'the claim paid Calor');
  assert.equal(Math.round(Number(shown.replace(/[^\d.]/g, '')) * 1e6), Number(gained), `shown ${shown}, paid ${gained} base units`);
  await shoot(page, 'staking-claimed');
  // the clock moved two days: the provider's node is offline until its next heartbeat
  const deadline = Date.now() + 60_000;
  for (;;) {
    const catalog = await fetch(`${API}/api/gpus`).then((r) => r.json());
    if (catalog.models.some((m) => m.idleNodes > 0)) break;
    assert.ok(Date.now() < deadline, 'the node heartbeats again within a minute');
    await new Promise((r) => setTimeout(r, 500));
  }
});

await step('the dark theme', async () => {
  await page.getByRole('link', { name: 'GPUs' }).click();
  await page.getByRole('button', { name: /dark theme/ }).click();
  await page.locator('tr[data-gpu]').first().waitFor();
  await accessible(page, 'catalog, dark');
  await shoot(page, 'catalog-dark');
});

await step('the API stops mid-session: the app says so and the renter still stops the rental on chain', async () => {
  await page.getByRole('link', { name: 'GPUs' }).click();
  await page.getByRole('link', { name: 'Rent H100 PCIe' }).click();
  await page.getByRole('button', { name: 'Get a quote' }).click();
  await page.getByRole('button', { name: /Sign and rent/ }).click();
  await page.waitForURL(/#\/jobs\//);
  await page.getByTestId('job-state').filter({ hasText: 'running' }).waitFor({ timeout: 90_000 });
  const rental = await rentalShown();
  process.kill(Number(process.env.CALOR_API_PID), 'SIGKILL');
  await page.getByRole('alert').filter({ hasText: 'The API is not answering' }).waitFor({ timeout: 30_000 });
  await page.getByTestId('chain-state').filter({ hasText: 'running' }).waitFor({ timeout: 15_000 });
  await shoot(page, 'job-api-down');
  await page.getByRole('button', { name: 'Stop and settle (on chain)' }).click();
  await page.getByTestId('chain-state').filter({ hasText: 'settled' }).waitFor({ timeout: 30_000 });
  const account = await rpc('getAccountInfo', [rental, { encoding: 'base64', commitment: 'confirmed' }]);
  assert.equal(account.value, null, 'the rental is settled and closed on chain');
});

await step('the API still down: the catalog comes from the chain, and the renter rents and stops all the same', async () => {
  await page.getByRole('link', { name: 'GPUs' }).click();
  await page.getByTestId('catalog-from-chain').waitFor({ timeout: 30_000 });
  // the node the last rental freed is idle again, by the chain's own accounts
  await page.locator('tr', { hasText: 'H100 PCIe' }).getByText('1 idle / 1', { exact: true }).first().waitFor({ timeout: 30_000 });
  await accessible(page, 'catalog-from-chain');
  await shoot(page, 'catalog-from-chain');
  await page.getByRole('link', { name: 'Rent H100 PCIe' }).click();
  await page.getByRole('button', { name: 'Get a quote' }).click();
  await page.getByTestId('quote-amount').waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: /Sign and rent/ }).click();
  await page.waitForURL(/#\/jobs\//);
  await page.getByTestId('chain-state').filter({ hasText: 'running' }).waitFor({ timeout: 90_000 });
  const rental = decodeURIComponent(page.url().split('#/jobs/')[1]);
  await page.getByRole('button', { name: 'Stop and settle (on chain)' }).click();
  await page.getByTestId('chain-state').filter({ hasText: 'settled' }).waitFor({ timeout: 30_000 });
  const account = await rpc('getAccountInfo', [rental, { encoding: 'base64', commitment: 'confirmed' }]);
  assert.equal(account.value, null, 'rented and settled on chain with no API');
});

await browser.close();
if (failures > 0) {
  console.log(`${failures} browser test(s) failed`);
  process.exit(1);
}
console.log('browser tests passed');
