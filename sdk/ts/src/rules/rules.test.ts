// The browser's quote, price reading and SSH key check against answers the program's own
// code computed (client/tests/app_vectors.rs): the Config and price accounts are decoded from
// their raw bytes with the client generated from the IDL, as the Rent page reads them.
import { getBase64Encoder } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import vectors from '../../../../tests/vectors/app.json';
import { getConfigDecoder } from '../generated/program/accounts/config';
import { readPriceUpdate } from './pyth';
import { quote, quoteCalorExtension, quoteSolExtension, type Payment, type QuoteResult } from './quote';
import { checkSshKey } from './sshKey';

const bytes = (b64: string) => new Uint8Array(getBase64Encoder().encode(b64));

/** The result with bigints as decimal strings, as the vectors write u64s. */
function plain(result: QuoteResult): unknown {
  if ('error' in result) {
    const e = result.error;
    switch (e.kind) {
      case 'belowMinimum':
        return {
          error: {
            kind: e.kind,
            paidUsdMicro: e.paidUsdMicro.toString(),
            minimumUsdMicro: e.minimumUsdMicro.toString(),
            minimumHours: e.minimumHours,
          },
        };
      default:
        return { error: e };
    }
  }
  const q = result.ok;
  return {
    ok: {
      marketUsdMicro: q.marketUsdMicro.toString(),
      paidUsdMicro: q.paidUsdMicro.toString(),
      minimumUsdMicro: q.minimumUsdMicro.toString(),
      amount: q.amount.toString(),
      maxPayment: q.maxPayment.toString(),
    },
  };
}

describe('the quote equals the program’s', () => {
  it.each(vectors.quotes.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const config = getConfigDecoder().decode(bytes(v.config));
    const price = v.priceData != null && v.priceOwner != null ? readPriceUpdate(v.priceOwner, bytes(v.priceData)) : null;
    const result = quote(
      config,
      price,
      BigInt(v.now),
      BigInt(v.hourlyRateMicroUsd),
      v.hours,
      v.payment as Payment,
      v.slippageBps,
    );
    expect(plain(result)).toEqual(v.expected);
  });
});

describe('the SOL extension quote equals the program’s', () => {
  it.each(vectors.solExtensions.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const config = getConfigDecoder().decode(bytes(v.config));
    const price = readPriceUpdate(v.priceOwner, bytes(v.priceData));
    const result = quoteSolExtension(
      config,
      price,
      BigInt(v.now),
      v.hoursBought,
      BigInt(v.hourlyRateMicroUsd),
      v.hours,
      v.slippageBps,
    );
    expect(plain(result)).toEqual(v.expected);
  });
});

describe('the Calor extension quote equals the program’s', () => {
  it.each(vectors.calorExtensions.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const config = getConfigDecoder().decode(bytes(v.config));
    const result = quoteCalorExtension(
      config,
      BigInt(v.now),
      v.hoursBought,
      BigInt(v.hourlyRateMicroUsd),
      v.subsidyBps,
      v.hours,
      v.slippageBps,
    );
    expect(plain(result)).toEqual(v.expected);
  });
});

describe('the SSH key check equals the program’s', () => {
  it.each(vectors.sshKeys.map((k) => [JSON.stringify(k.line).slice(0, 60), k] as const))('%s', (_, k) => {
    expect(checkSshKey(k.line)).toBe(k.error);
  });
});
