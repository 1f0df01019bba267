// What an open (or an extension) costs, by the program's rules (calor::math, calor::oracle,
// calor_client::quote), computed in the browser from the Config account and the SOL/USD price
// update it reads from the chain. Integer arithmetic in bigint, rounding as the program rounds:
// what the renter pays up, so the quoted amount is exactly what the program will take. The
// transaction carries `maxPayment`, so a price that moves before it lands can never take more.
// Checked against vectors computed by the program's own code (tests/vectors/app.json).
import {
  BPS_DENOMINATOR,
  MAX_ORACLE_EXPONENT,
  MAX_PRICE_FUTURE_SKEW_SECS,
  MAX_RENTAL_HOURS,
  MICRO_USD_PER_USD,
} from '../generated/constants';
import type { Config } from '../generated/program/accounts/config';
import type { PriceMessage } from './pyth';

const U64_MAX = (1n << 64n) - 1n;
const LAMPORTS_PER_SOL = 1_000_000_000n;
const BPS = BigInt(BPS_DENOMINATOR);

export type Payment = 'sol' | 'calor';

export type QuoteConfig = Pick<Config, 'calorPriceMicroUsd' | 'calorPricePostedAt' | 'calorDecimals'> & {
  params: Pick<Config['params'], 'minRentalMicroUsd' | 'calorSubsidyBps' | 'solUsdOracle' | 'calorPrice'>;
};

export type Quote = {
  payment: Payment;
  hours: number;
  hourlyRateMicroUsd: bigint;
  /** The market value of the hours. */
  marketUsdMicro: bigint;
  /** What the renter pays in USD (the market value less the Calor subsidy). */
  paidUsdMicro: bigint;
  minimumUsdMicro: bigint;
  /** Lamports or Calor base units the program takes at this price. */
  amount: bigint;
  /** The most the transaction lets the program take (`amount` plus slippage). */
  maxPayment: bigint;
};

/** Why an open cannot be quoted; `price` carries the program's error name. */
export type QuoteError =
  | { kind: 'hours'; max: number }
  | { kind: 'belowMinimum'; paidUsdMicro: bigint; minimumUsdMicro: bigint; minimumHours: number | null }
  | { kind: 'price'; name: string }
  | { kind: 'notAPriceUpdate' }
  | { kind: 'overflow' };

export type QuoteResult = { ok: Quote } | { error: QuoteError };

class Overflow extends Error {}
class InvalidPrice extends Error {}

const u64 = (n: bigint): bigint => {
  if (n < 0n || n > U64_MAX) throw new Overflow();
  return n;
};
const divCeil = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;

function usdCost(rate: bigint, hours: number): bigint {
  return u64(rate * BigInt(hours));
}

export function subsidisedUsd(market: bigint, subsidyBps: number): bigint {
  return u64(divCeil(market * (BPS - BigInt(subsidyBps)), BPS));
}

function paidUsd(config: QuoteConfig, rate: bigint, hours: number, payment: Payment): bigint {
  const market = usdCost(rate, hours);
  return payment === 'sol' ? market : subsidisedUsd(market, config.params.calorSubsidyBps);
}

/** calor::math::usd_to_lamports: at the conservative price `price − conf`, rounded up. */
function usdToLamports(usdMicro: bigint, price: bigint, conf: bigint, exponent: number): bigint {
  if (exponent < -MAX_ORACLE_EXPONENT || exponent > MAX_ORACLE_EXPONENT || price <= 0n) throw new InvalidPrice();
  const conservative = price - conf;
  if (conservative <= 0n) throw new InvalidPrice();
  let numerator = usdMicro * (LAMPORTS_PER_SOL / BigInt(MICRO_USD_PER_USD));
  let denominator = conservative;
  if (exponent < 0) numerator *= 10n ** BigInt(-exponent);
  else denominator *= 10n ** BigInt(exponent);
  return u64(divCeil(numerator, denominator));
}

/** PriceMessage::check: the pinned feed, fresh, positive, confidence narrow enough. */
function priceProblem(config: QuoteConfig, m: PriceMessage, now: bigint): string | null {
  const oracle = config.params.solUsdOracle;
  if (m.feedId.length !== oracle.feedId.length || m.feedId.some((b, i) => b !== oracle.feedId[i])) return 'WrongPriceFeed';
  if (m.publishTime > now + MAX_PRICE_FUTURE_SKEW_SECS) return 'PriceFromFuture';
  if (now - m.publishTime > BigInt(oracle.maxAgeSecs)) return 'StalePrice';
  if (m.price <= 0n) return 'InvalidOraclePrice';
  if (m.conf * BPS > m.price * BigInt(oracle.maxConfBps)) return 'PriceConfidenceTooWide';
  return null;
}

/** calor::oracle::usd_to_calor: at the posted Calor/USD rate, if it is fresh; rounded up. */
function usdToCalor(config: QuoteConfig, now: bigint, usdMicro: bigint): bigint | string {
  const fresh = config.calorPriceMicroUsd > 0n && now - config.calorPricePostedAt <= BigInt(config.params.calorPrice.maxAgeSecs);
  if (!fresh) return 'StaleCalorPrice';
  return u64(divCeil(usdMicro * 10n ** BigInt(config.calorDecimals), config.calorPriceMicroUsd));
}

/**
 * Quotes `hours` at `hourlyRateMicroUsd` paid with `payment` at unix time `now`. `solUsd` is
 * the SOL/USD price update (`null` when the account is missing or not a verified update).
 */
export function quote(
  config: QuoteConfig,
  solUsd: PriceMessage | null,
  now: bigint,
  hourlyRateMicroUsd: bigint,
  hours: number,
  payment: Payment,
  slippageBps: number,
): QuoteResult {
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_RENTAL_HOURS) return { error: { kind: 'hours', max: MAX_RENTAL_HOURS } };
  try {
    const marketUsdMicro = usdCost(hourlyRateMicroUsd, hours);
    const paidUsdMicro = paidUsd(config, hourlyRateMicroUsd, hours, payment);
    const minimumUsdMicro = config.params.minRentalMicroUsd;
    if (paidUsdMicro < minimumUsdMicro) {
      let minimumHours: number | null = null;
      for (let h = hours; h <= MAX_RENTAL_HOURS; h++) {
        try {
          if (paidUsd(config, hourlyRateMicroUsd, h, payment) >= minimumUsdMicro) {
            minimumHours = h;
            break;
          }
        } catch {
          // an hour count that overflows cannot reach the minimum either
        }
      }
      return { error: { kind: 'belowMinimum', paidUsdMicro, minimumUsdMicro, minimumHours } };
    }
    let amount: bigint;
    if (payment === 'sol') {
      const lamports = solAmount(config, solUsd, now, paidUsdMicro);
      if (typeof lamports !== 'bigint') return { error: lamports };
      amount = lamports;
    } else {
      const tokens = usdToCalor(config, now, paidUsdMicro);
      if (typeof tokens === 'string') return { error: { kind: 'price', name: tokens } };
      amount = tokens;
    }
    const maxPayment = u64(amount + (amount * BigInt(slippageBps)) / BPS);
    return { ok: { payment, hours, hourlyRateMicroUsd, marketUsdMicro, paidUsdMicro, minimumUsdMicro, amount, maxPayment } };
  } catch (e) {
    if (e instanceof Overflow) return { error: { kind: 'overflow' } };
    throw e;
  }
}

/** Lamports worth `usdMicro` at the SOL/USD price, checked as the program checks it. */
function solAmount(config: QuoteConfig, solUsd: PriceMessage | null, now: bigint, usdMicro: bigint): bigint | QuoteError {
  if (!solUsd) return { kind: 'notAPriceUpdate' };
  const problem = priceProblem(config, solUsd, now);
  if (problem) return { kind: 'price', name: problem };
  try {
    return usdToLamports(usdMicro, solUsd.price, solUsd.conf, solUsd.exponent);
  } catch {
    return { kind: 'price', name: 'InvalidOraclePrice' };
  }
}

/** What an extension's market value costs in the rental's unit, or why it cannot be priced. */
type Priced = { paidUsdMicro: bigint; amount: bigint } | QuoteError;

/**
 * `hours` more of a running rental that has bought `hoursBought` so far, at its own rate
 * (calor_client::quote::Extension): no minimum applies to an extension; the rental stays within
 * MAX_RENTAL_HOURS in all. `price` turns the market value into what is paid.
 */
function quoteExtension(
  payment: Payment,
  hoursBought: number,
  hourlyRateMicroUsd: bigint,
  hours: number,
  slippageBps: number,
  price: (marketUsdMicro: bigint) => Priced,
): QuoteResult {
  const left = Math.max(0, MAX_RENTAL_HOURS - hoursBought);
  if (!Number.isInteger(hours) || hours < 1 || hours > left) return { error: { kind: 'hours', max: left } };
  try {
    const marketUsdMicro = usdCost(hourlyRateMicroUsd, hours);
    const priced = price(marketUsdMicro);
    if ('kind' in priced) return { error: priced };
    const { paidUsdMicro, amount } = priced;
    const maxPayment = u64(amount + (amount * BigInt(slippageBps)) / BPS);
    return { ok: { payment, hours, hourlyRateMicroUsd, marketUsdMicro, paidUsdMicro, minimumUsdMicro: 0n, amount, maxPayment } };
  } catch (e) {
    if (e instanceof Overflow) return { error: { kind: 'overflow' } };
    throw e;
  }
}

/** Quotes `extend_sol` (calor_client::quote::quote_sol_extension) at today's SOL price. */
export function quoteSolExtension(
  config: QuoteConfig,
  solUsd: PriceMessage | null,
  now: bigint,
  hoursBought: number,
  hourlyRateMicroUsd: bigint,
  hours: number,
  slippageBps: number,
): QuoteResult {
  return quoteExtension('sol', hoursBought, hourlyRateMicroUsd, hours, slippageBps, (usd) => {
    const amount = solAmount(config, solUsd, now, usd);
    return typeof amount === 'bigint' ? { paidUsdMicro: usd, amount } : amount;
  });
}

/**
 * Quotes `extend_calor` (calor_client::quote::quote_calor_extension): the subsidy share fixed at
 * the rental's open (`subsidyBps`) and today's Calor rate.
 */
export function quoteCalorExtension(
  config: QuoteConfig,
  now: bigint,
  hoursBought: number,
  hourlyRateMicroUsd: bigint,
  subsidyBps: number,
  hours: number,
  slippageBps: number,
): QuoteResult {
  return quoteExtension('calor', hoursBought, hourlyRateMicroUsd, hours, slippageBps, (market) => {
    const usd = subsidisedUsd(market, subsidyBps);
    const amount = usdToCalor(config, now, usd);
    return typeof amount === 'string' ? { kind: 'price', name: amount } : { paidUsdMicro: usd, amount };
  });
}

/** Micro-USD as dollars and cents, rounded up to the cent (calor_client::quote::usd). */
export function usdText(micro: bigint): string {
  const cents = divCeil(micro, 10_000n);
  return `$${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/** Why a quote failed, in words for the form. */
export function quoteErrorText(e: QuoteError): string {
  switch (e.kind) {
    case 'hours':
      return `hours must be between 1 and ${e.max}`;
    case 'belowMinimum':
      return (
        `this rental costs ${usdText(e.paidUsdMicro)}, under the minimum of ${usdText(e.minimumUsdMicro)}` +
        (e.minimumHours != null ? `: rent at least ${e.minimumHours} hours at this rate` : '')
      );
    case 'price':
      return `the price cannot be used now (${e.name})`;
    case 'notAPriceUpdate':
      return 'the SOL/USD account is not a verified Pyth price update';
    case 'overflow':
      return 'the amounts overflow';
  }
}
