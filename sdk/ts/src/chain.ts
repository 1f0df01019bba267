// The chain directly: quoting, opening, extending and stopping rentals, and reading them.
// Instructions are built here with the program client generated from the IDL; the caller's
// signer signs them and they go to the RPC node: the API is not involved.
import {
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Instruction,
} from '@solana/kit';

import {
  CONFIG_SEED,
  ESCROW_SEED,
  GPU_MODEL_SEED,
  REGION_SEED,
  RENTAL_SEED,
  STAKE_POOL_SEED,
  STAKE_SEED,
  SUBSIDY_POOL_SEED,
  SUBSIDY_VAULT_SEED,
} from './generated/constants';
import { fetchMaybeRental, getRentalSize, type Rental } from './generated/program/accounts/rental';
import { fetchMaybeStake } from './generated/program/accounts/stake';
import { getExtendCalorInstruction } from './generated/program/instructions/extendCalor';
import { getExtendSolInstruction } from './generated/program/instructions/extendSol';
import { getOpenRentalCalorInstruction } from './generated/program/instructions/openRentalCalor';
import { getOpenRentalSolInstruction } from './generated/program/instructions/openRentalSol';
import { getCancelInstruction } from './generated/program/instructions/cancel';
import { getCompleteInstruction } from './generated/program/instructions/complete';
import { getClaimRefundInstruction } from './generated/program/instructions/claimRefund';
import { getSettleCalorInstruction } from './generated/program/instructions/settleCalor';
import { getSettleSolInstruction } from './generated/program/instructions/settleSol';
import { PaymentKind } from './generated/program/types/paymentKind';
import { RentalState } from './generated/program/types/rentalState';
import { readPriceUpdate, type PriceMessage } from './rules/pyth';
import { quote, quoteCalorExtension, quoteSolExtension, type Payment, type Quote, type QuoteResult } from './rules/quote';
import { addressBytes, fromBase64, le, pda, pdaWithBump, readConfig, type ChainContext } from './context';
import { accountExists, associatedAccount, calorAccount, createAssociatedIdempotent, TOKEN_ACCOUNT_LEN } from './token';

const DEFAULT_ADDRESS = '11111111111111111111111111111111';

/** The SOL/USD price as the program would read it now; `null` when it is not a verified update. */
async function solUsdPrice(ctx: ChainContext): Promise<PriceMessage | null> {
  const { value } = await ctx.rpc.getAccountInfo(ctx.solUsd, { encoding: 'base64', commitment: 'confirmed' }).send();
  return value ? readPriceUpdate(value.owner, fromBase64(value.data[0])) : null;
}

/** The chain's clock (the Clock sysvar's `unix_timestamp`): prices' age is judged by it. */
export async function chainTime(ctx: ChainContext): Promise<bigint> {
  const { value } = await ctx.rpc
    .getAccountInfo(address('SysvarC1ock11111111111111111111111111111111'), { encoding: 'base64', commitment: 'confirmed' })
    .send();
  if (!value) throw new Error('the RPC node has no Clock sysvar');
  const data = fromBase64(value.data[0]);
  return new DataView(data.buffer, data.byteOffset).getBigInt64(32, true);
}

/** What an open costs now, by the program's rules, from the chain's own accounts. */
export type ChainQuote = {
  result: QuoteResult;
  /** Lamports held as the rental account's rent, returned when it is settled. */
  rentLamports: bigint;
  /** The transaction's fee: one signature. */
  feeLamports: bigint;
  balanceLamports: bigint;
  calorDecimals: number;
  /** Calor base units the renter holds (Calor payments only). */
  calorBalance: bigint;
};

/**
 * `instructions` as a transaction paid by `feePayer`, with the RPC node's latest blockhash, not
 * yet signed: the caller's signer (a Kit signer, a wallet) signs it.
 */
export async function unsignedTransaction(ctx: ChainContext, feePayer: string, instructions: Instruction[]) {
  const { value: blockhash } = await ctx.rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(address(feePayer), m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  return compileTransaction(message);
}

/** What a wallet lacks for a purchase: lamports (`sol`) or Calor base units (`calor`). */
export type Shortfall = { unit: 'sol' | 'calor'; need: bigint; have: bigint };

/**
 * What the wallet of `q` lacks to pay `quoted` (at most its `maxPayment`, plus the rent deposits
 * and the fee in SOL): the Calor payment first, then the SOL, as calor_client::renting::shortfall
 * decides it. `null` when it can pay.
 */
export function shortfall(q: ChainQuote, quoted: Quote): Shortfall | null {
  const calor = quoted.payment === 'calor';
  if (calor && q.calorBalance < quoted.maxPayment) return { unit: 'calor', need: quoted.maxPayment, have: q.calorBalance };
  const lamports = (calor ? 0n : quoted.maxPayment) + q.rentLamports + q.feeLamports;
  return q.balanceLamports < lamports ? { unit: 'sol', need: lamports, have: q.balanceLamports } : null;
}

const SIGNATURE_FEE_LAMPORTS = 5_000n;
/** How far above the quote a transaction lets the program take (a price moving meanwhile). */
export const SLIPPAGE_BPS = 100;

export async function quoteOnChain(
  ctx: ChainContext,
  renter: string,
  hourlyRateMicroUsd: bigint,
  hours: number,
  payment: Payment,
): Promise<ChainQuote> {
  const config = await readConfig(ctx);
  const calor = payment === 'calor';
  const [price, now, rentalRent, escrowRent, balance, tokens] = await Promise.all([
    solUsdPrice(ctx),
    chainTime(ctx),
    ctx.rpc.getMinimumBalanceForRentExemption(BigInt(getRentalSize())).send(),
    calor ? ctx.rpc.getMinimumBalanceForRentExemption(TOKEN_ACCOUNT_LEN).send() : Promise.resolve(0n),
    ctx.rpc.getBalance(address(renter), { commitment: 'confirmed' }).send(),
    calor ? calorAccount(ctx, renter, config.data.calorMint) : Promise.resolve(null),
  ]);
  return {
    result: quote(config.data, price, now, hourlyRateMicroUsd, hours, payment, SLIPPAGE_BPS),
    // a Calor rental also holds its escrow token account's rent
    rentLamports: rentalRent + escrowRent,
    feeLamports: SIGNATURE_FEE_LAMPORTS,
    balanceLamports: balance.value,
    calorDecimals: config.data.calorDecimals,
    calorBalance: tokens?.balance ?? 0n,
  };
}

/** What `hours` more of a running rental cost now, from the rental and prices on chain. */
export async function quoteExtensionOnChain(ctx: ChainContext, rentalAddress: string, hours: number): Promise<ChainQuote> {
  const rental = await readRental(ctx, rentalAddress);
  if (!rental) throw new Error('the rental is settled: there is nothing to extend');
  const calor = rental.payment === PaymentKind.Calor;
  const [config, price, now, balance] = await Promise.all([
    readConfig(ctx),
    calor ? Promise.resolve(null) : solUsdPrice(ctx),
    chainTime(ctx),
    ctx.rpc.getBalance(rental.renter, { commitment: 'confirmed' }).send(),
  ]);
  const tokens = calor ? await calorAccount(ctx, rental.renter, config.data.calorMint) : null;
  return {
    result: calor
      ? quoteCalorExtension(config.data, now, rental.hours, rental.hourlyRateMicroUsd, rental.subsidyBps, hours, SLIPPAGE_BPS)
      : quoteSolExtension(config.data, price, now, rental.hours, rental.hourlyRateMicroUsd, hours, SLIPPAGE_BPS),
    rentLamports: 0n,
    feeLamports: SIGNATURE_FEE_LAMPORTS,
    balanceLamports: balance.value,
    calorDecimals: config.data.calorDecimals,
    calorBalance: tokens?.balance ?? 0n,
  };
}

/**
 * `extend_sol` or `extend_calor`, by how the rental pays: `hours` more at its own rate, paying
 * at most `maxPayment` (lamports or Calor base units).
 */
export async function extendInstruction(
  ctx: ChainContext,
  rentalAddress: string,
  renter: string,
  hours: number,
  maxPayment: bigint,
): Promise<Instruction> {
  const rental = await readRental(ctx, rentalAddress);
  if (!rental) throw new Error('the rental is settled: there is nothing to extend');
  const common = {
    config: await pda([CONFIG_SEED]),
    rental: address(rentalAddress),
    renter: createNoopSigner(address(renter)),
    args: { hours, maxPayment },
  };
  if (rental.payment === PaymentKind.Sol) return getExtendSolInstruction({ ...common, priceUpdate: ctx.solUsd });
  const { data } = await readConfig(ctx);
  const tokens = await calorAccount(ctx, renter, data.calorMint);
  return getExtendCalorInstruction({
    ...common,
    calorMint: data.calorMint,
    renterToken: tokens.account,
    escrow: await pda([ESCROW_SEED, addressBytes(rentalAddress)]),
    subsidyPool: await pda([SUBSIDY_POOL_SEED]),
    subsidyVault: await pda([SUBSIDY_VAULT_SEED]),
    tokenProgram: tokens.tokenProgram,
  });
}

export type Open = {
  renter: string;
  gpu: number;
  region: number | null;
  hours: number;
  hourlyRateMicroUsd: bigint;
  sshKey: string | null;
  payment: Payment;
  maxPayment: bigint;
};

/**
 * `open_rental_sol` or `open_rental_calor`, built here from the program client: a fresh random
 * rental id, the renter's stake for routing priority when it has one, `maxPayment` from the
 * browser's quote. Returns the rental's address with the instruction.
 */
export async function openInstruction(ctx: ChainContext, open: Open): Promise<{ rental: Address; instruction: Instruction }> {
  const id = new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0, true);
  const renterBytes = addressBytes(open.renter);
  const [rental, bump] = await pdaWithBump([RENTAL_SEED, renterBytes, le(id, 8)]);
  const stakeAddress = await pda([STAKE_SEED, renterBytes]);
  const staked = (await fetchMaybeStake(ctx.rpc, stakeAddress, { commitment: 'confirmed' })).exists;
  const common = {
    config: await pda([CONFIG_SEED]),
    gpuModel: await pda([GPU_MODEL_SEED, le(BigInt(open.gpu), 2)]),
    region: open.region == null ? undefined : await pda([REGION_SEED, le(BigInt(open.region), 2)]),
    rental,
    stake: staked ? stakeAddress : undefined,
    stakePool: staked ? await pda([STAKE_POOL_SEED]) : undefined,
    renter: createNoopSigner(address(open.renter)),
  };
  const args = {
    id,
    bump,
    escrowBump: 0,
    hours: open.hours,
    hourlyRateMicroUsd: open.hourlyRateMicroUsd,
    region: open.region,
    near: null,
    sshPublicKey: open.sshKey,
    forwardedPorts: [],
    maxPayment: open.maxPayment,
  };
  if (open.payment === 'sol') {
    return { rental, instruction: getOpenRentalSolInstruction({ ...common, priceUpdate: ctx.solUsd, args }) };
  }
  const config = await readConfig(ctx);
  const tokens = await calorAccount(ctx, open.renter, config.data.calorMint);
  const [escrow, escrowBump] = await pdaWithBump([ESCROW_SEED, addressBytes(rental)]);
  const instruction = getOpenRentalCalorInstruction({
    ...common,
    calorMint: config.data.calorMint,
    renterToken: tokens.account,
    escrow,
    subsidyPool: await pda([SUBSIDY_POOL_SEED]),
    subsidyVault: await pda([SUBSIDY_VAULT_SEED]),
    tokenProgram: tokens.tokenProgram,
    args: { ...args, escrowBump },
  });
  return { rental, instruction };
}

/** The rental as the chain has it now; `null` once settled (the account is closed). */
export async function readRental(ctx: ChainContext, rental: string): Promise<Rental | null> {
  const account = await fetchMaybeRental(ctx.rpc, address(rental), { commitment: 'confirmed' });
  return account.exists ? account.data : null;
}

/** What the rental's state allows a renter to do, in words. */
export function stateName(state: number): string {
  const name = RentalState[state];
  // as the API names them: `refund_held`
  return name ? name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase() : `state ${state}`;
}

/** A stop built for the wallet: its instructions, and whether they settle the rental too. */
export type Stop = { instructions: Instruction[]; settles: boolean };

/**
 * The instructions that stop a rental and settle it: `cancel` while it is queued or being
 * provisioned, `complete` while it runs, then `settle_sol` or `settle_calor` (alone for one that
 * has ended). A Calor settlement pays the provider's payout account; when that account does not
 * exist the renter's transaction only stops the rental and the provider settles, as through the
 * API. A renter without a Calor account gets its refund held, to claim with `claimRefundInstructions`.
 */
export async function stopInstructions(ctx: ChainContext, rentalAddress: string, rental: Rental): Promise<Stop> {
  const renter = createNoopSigner(rental.renter);
  const target = address(rentalAddress);
  const config = await pda([CONFIG_SEED]);
  const claimed = rental.node !== DEFAULT_ADDRESS;
  const instructions: Instruction[] = [];
  switch (rental.state) {
    case RentalState.Queued:
    case RentalState.Provisioning:
      instructions.push(
        getCancelInstruction({ config, rental: target, node: claimed ? rental.node : undefined, renter }),
      );
      break;
    case RentalState.Running:
      instructions.push(getCompleteInstruction({ rental: target, node: rental.node, signer: renter }));
      break;
    case RentalState.RefundHeld:
      throw new Error('this rental is settled and its refund held: claim the refund');
    default:
      break;
  }
  const stake = rental.priority > 0 ? await pda([STAKE_SEED, addressBytes(rental.renter)]) : undefined;
  const payee = rental.payee !== DEFAULT_ADDRESS ? rental.payee : undefined;
  if (rental.payment === PaymentKind.Sol) {
    instructions.push(getSettleSolInstruction({ config, rental: target, provider: payee, renter: rental.renter, stake }));
    return { instructions, settles: true };
  }
  const { data } = await readConfig(ctx);
  const tokens = await calorAccount(ctx, rental.renter, data.calorMint);
  const providerToken = payee ? await associatedAccount(payee, data.calorMint, tokens.tokenProgram) : undefined;
  if (providerToken && !(await accountExists(ctx, providerToken))) {
    if (instructions.length === 0) throw new Error('this rental has ended: its provider settles it');
    return { instructions, settles: false };
  }
  instructions.push(
    getSettleCalorInstruction({
      config,
      rental: target,
      escrow: await pda([ESCROW_SEED, addressBytes(target)]),
      calorMint: data.calorMint,
      renterToken: tokens.account,
      providerToken,
      subsidyPool: await pda([SUBSIDY_POOL_SEED]),
      subsidyVault: await pda([SUBSIDY_VAULT_SEED]),
      renter: rental.renter,
      stake,
      tokenProgram: tokens.tokenProgram,
    }),
  );
  return { instructions, settles: true };
}

/**
 * Pays a held Calor refund (settlement could not pay the renter's token account then) into the
 * renter's associated account, created first if it is missing.
 */
export async function claimRefundInstructions(ctx: ChainContext, rentalAddress: string, rental: Rental): Promise<Instruction[]> {
  const target = address(rentalAddress);
  const { data } = await readConfig(ctx);
  const tokens = await calorAccount(ctx, rental.renter, data.calorMint);
  return [
    await createAssociatedIdempotent(rental.renter, rental.renter, data.calorMint, tokens.tokenProgram),
    getClaimRefundInstruction({
      config: await pda([CONFIG_SEED]),
      rental: target,
      escrow: await pda([ESCROW_SEED, addressBytes(target)]),
      calorMint: data.calorMint,
      renterToken: tokens.account,
      renter: rental.renter,
      tokenProgram: tokens.tokenProgram,
    }),
  ];
}
