// Pyth `PriceUpdateV2` accounts (SOL/USD), read as the program reads them (calor::oracle):
// owner, discriminator, full verification, then five fields at fixed offsets. Not in the
// program's IDL, so read here; the test vectors (tests/vectors/app.json) hold real accounts
// serialised by Pyth's own SDK, which keeps these offsets honest.
import { getBase58Decoder } from '@solana/kit';

/** The Pyth Solana receiver program: owner of every genuine price update. */
export const PYTH_RECEIVER_PROGRAM = 'rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ';
const PRICE_UPDATE_V2_DISCRIMINATOR = [34, 241, 35, 99, 157, 126, 244, 205];
// discriminator (8), write authority (32), verification level (tag 1 = Full: one byte)
const VERIFICATION_OFFSET = 8 + 32;
const FULL = 1;
const MESSAGE_OFFSET = VERIFICATION_OFFSET + 1;
const MESSAGE_LEN = 32 + 8 + 8 + 4 + 8;

export type PriceMessage = {
  feedId: Uint8Array;
  price: bigint;
  conf: bigint;
  exponent: number;
  publishTime: bigint;
};

/** The price message of a fully verified update, or `null` when the account is not one. */
export function readPriceUpdate(owner: string, data: Uint8Array): PriceMessage | null {
  if (owner !== PYTH_RECEIVER_PROGRAM) return null;
  if (data.length < MESSAGE_OFFSET + MESSAGE_LEN) return null;
  if (PRICE_UPDATE_V2_DISCRIMINATOR.some((b, i) => data[i] !== b)) return null;
  if (data[VERIFICATION_OFFSET] !== FULL) return null;
  const view = new DataView(data.buffer, data.byteOffset + MESSAGE_OFFSET, MESSAGE_LEN);
  return {
    feedId: data.slice(MESSAGE_OFFSET, MESSAGE_OFFSET + 32),
    price: view.getBigInt64(32, true),
    conf: view.getBigUint64(40, true),
    exponent: view.getInt32(48, true),
    publishTime: view.getBigInt64(52, true),
  };
}

export const feedHex = (feedId: Uint8Array): string => Array.from(feedId, (b) => b.toString(16).padStart(2, '0')).join('');
export const base58 = (bytes: Uint8Array): string => getBase58Decoder().decode(bytes);
