// The SDK on the real local stack (chain + program, provisioner on Podman, API), as a Node
// script would use it: a keypair file as the Kit signer. Started by scripts/app-test.sh with
// the stack up; CALOR_SDK_KEY and CALOR_SDK_POOR_KEY name funded and unfunded key files.
import { readFileSync } from 'node:fs';

import { createKeyPairSignerFromBytes, createSolanaRpc, address } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import { Calor, CalorError, type Job } from '../src';

const API = process.env.CALOR_API ?? 'http://127.0.0.1:8080';
const keyFile = process.env.CALOR_SDK_KEY;

async function signer(path: string) {
  return createKeyPairSignerFromBytes(Uint8Array.from(JSON.parse(readFileSync(path, 'utf8'))));
}

async function refused(run: () => Promise<unknown>): Promise<CalorError> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(CalorError);
    return e as CalorError;
  }
  throw new Error('expected a CalorError');
}

describe.runIf(keyFile)('@calor/sdk on the local stack', () => {
  it('refuses bad input by name, with a kind to branch on', async () => {
    const calor = new Calor({ wallet: await signer(keyFile!), cluster: 'localnet', apiUrl: API });
    const unknown = await refused(() => calor.compute({ gpu: 'b200', duration: 3 }));
    expect([unknown.kind, unknown.code]).toEqual(['invalid', 'unknown_gpu']);
    const short = await refused(() => calor.compute({ gpu: 'h100-pcie', duration: 1 }));
    expect([short.kind, short.code]).toEqual(['invalid', 'below_minimum']);
    expect(short.message).toContain('rent at least 3 hours');
    const key = await refused(() => calor.compute({ gpu: 'h100-pcie', duration: 3, sshKey: 'ssh-ed25519 AAAA' }));
    expect(key.code).toBe('bad_ssh_key');
    const poor = new Calor({ wallet: await signer(process.env.CALOR_SDK_POOR_KEY!), apiUrl: API });
    const broke = await refused(() => poor.compute({ gpu: 'h100-pcie', duration: 3 }));
    expect([broke.kind, broke.code]).toEqual(['funds', 'insufficient_funds']);
    expect(broke.message).toMatch(/^insufficient SOL: need 0\.\d{4} SOL, have 0\.0000 SOL$/);
    expect(() => new Calor({ wallet: poor.wallet, cluster: 'moonnet' })).toThrow(CalorError);
    const offline = new Calor({ wallet: poor.wallet, apiUrl: 'http://127.0.0.1:9' });
    expect((await refused(() => offline.jobs.list())).kind).toBe('network');
  });

  it('computes, watches to running, lists, stops: the refund is the chain\'s', async () => {
    const wallet = await signer(keyFile!);
    const calor = new Calor({ wallet, cluster: 'localnet', apiUrl: API, pollMs: 250 });
    const rpc = createSolanaRpc('http://127.0.0.1:8899');
    const result = await calor.compute({ gpu: 'h100-pcie', duration: 3, payWith: 'sol' });
    expect(result.state).toBe('running');
    expect(result.cost.unit).toBe('lamports');
    expect(result.cost.usd).toBe(6);
    expect(result.tx).toMatch(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/);

    const seen: Job[] = [];
    const unsubscribe = calor.jobs.watch(result.id, (job) => seen.push(job));
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(seen[0].state).toBe('running');
    const listed = await calor.jobs.list({ status: 'running' });
    expect(listed.map((j) => j.rental)).toContain(result.id);

    const before = (await rpc.getBalance(wallet.address, { commitment: 'confirmed' }).send()).value;
    const held = (await rpc.getBalance(address(result.id), { commitment: 'confirmed' }).send()).value;
    const stopped = await calor.jobs.stop(result.id);
    expect(stopped.settles).toBe(true);
    const job = stopped.job!;
    expect(job.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'started', 'ended', 'settled']));
    const after = (await rpc.getBalance(wallet.address, { commitment: 'confirmed' }).send()).value;
    const tx = await rpc
      .getTransaction(stopped.tx as Parameters<typeof rpc.getTransaction>[0], { maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
      .send();
    const fee = tx!.meta!.fee;
    const cost = job.cost;
    expect(BigInt(cost.providerPay!) + BigInt(cost.fee!) + BigInt(cost.refund!)).toBe(BigInt(cost.escrowed));
    const rent = held - BigInt(cost.escrowed);
    expect(after + fee).toBe(before + BigInt(cost.refund!) + rent);
    // the watcher saw the stop and has finished on its own
    await expect.poll(() => seen.some((j) => j.timeline.some((e) => e.kind === 'settled')), { timeout: 10_000 }).toBe(true);
    unsubscribe();
    const again = await refused(() => calor.jobs.stop(result.id));
    expect(again.kind).toBe('not_found');
  });

  it('with the API down, still computes (the catalog from the chain) and stops', async () => {
    const wallet = await signer(keyFile!);
    const calor = new Calor({ wallet, cluster: 'localnet', apiUrl: 'http://127.0.0.1:9', pollMs: 250 });
    const rpc = createSolanaRpc('http://127.0.0.1:8899');
    const result = await calor.compute({ gpu: 'h100-pcie', duration: 3 });
    expect(result.state).toBe('running');
    const stopped = await calor.jobs.stop(result.id);
    expect([stopped.settles, stopped.job]).toEqual([true, null]);
    const account = await rpc.getAccountInfo(address(result.id), { commitment: 'confirmed' }).send();
    expect(account.value).toBeNull();
    expect(await calor.jobs.state(result.id)).toBeNull();
  });
});
