// Access to a job's instance (its web terminal, its Jupyter secret): the API builds the message
// (with the provisioner's own module, calor_client::access), the wallet signs it, and the
// provider's provisioner checks the signature against the rental's renter on chain.
import { getBase58Decoder } from '@solana/kit';
import type { Wallet, WalletAccount } from '@wallet-standard/base';

import { api, problemText } from './api';
import { signMessage } from './wallet';

export type SignedAccess = {
  message: string;
  /** base58, as the provisioner reads it */
  signature: string;
  /** the terminal's websocket, or the provisioner's Jupyter URL */
  url: string;
};

/** The signed access message for `action` on `job`; throws with the reason when it cannot be had. */
export async function signedAccess(
  wallet: Wallet,
  account: WalletAccount,
  job: string,
  action: 'terminal' | 'jupyter',
): Promise<SignedAccess> {
  const { data, error, response } = await api.POST('/api/jobs/{id}/access', {
    params: { path: { id: job } },
    body: { action },
  });
  if (!data) throw new Error(problemText(error, response));
  if (!data.url) throw new Error(`the provider gave no ${action} address`);
  const signed = await signMessage(wallet, account, new TextEncoder().encode(data.message));
  return { message: data.message, signature: getBase58Decoder().decode(signed.signature), url: data.url };
}
