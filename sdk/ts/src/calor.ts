// `Calor`: rent GPUs from TypeScript. Transactions are built here from the program client
// generated from the IDL (the same builders the web app uses), signed by the caller's Kit
// signer (a keypair in Node, a wallet in the browser) and sent to the RPC node. Reads come from
// the REST API, typed by its OpenAPI description and signed in with the same signer.
import {
  address,
  assertIsTransactionWithinSizeLimit,
  createSignableMessage,
  getBase64Decoder,
  getBase64EncodedWireTransaction,
  type Address,
  type Instruction,
  type MessagePartialSigner,
  type Signature,
  type Transaction,
  type TransactionPartialSigner,
} from '@solana/kit';
import createClient from 'openapi-fetch';

import { openInstruction, quoteOnChain, readRental, shortfall, stateName, stopInstructions, unsignedTransaction } from './chain';
import { chainContext, type ChainContext } from './context';
import type { components, paths } from './generated/api';
import { catalogOnChain } from './market';
import { quoteErrorText, type Payment } from './rules/quote';
import { checkSshKey, sshKeyErrorText } from './rules/sshKey';

export type Schemas = components['schemas'];
/** A job as the API reports it: state, timeline with signatures, money, where to connect. */
export type Job = Schemas['Job'];
export type JobState = 'queued' | 'provisioning' | 'running' | 'completed' | 'failed' | 'cancelled' | 'refund_held';

/** A cluster by name, or an RPC URL. */
export type Cluster = 'localnet' | 'devnet' | 'mainnet-beta' | (string & {});

const RPC_URLS: Record<string, string> = {
  localnet: 'http://127.0.0.1:8899',
  devnet: 'https://api.devnet.solana.com',
  'mainnet-beta': 'https://api.mainnet-beta.solana.com',
};

/** The wallet: any Kit signer that signs transactions (and messages, to read from the API). */
export type CalorWallet = TransactionPartialSigner & Partial<MessagePartialSigner>;

export type CalorOptions = {
  wallet: CalorWallet;
  cluster?: Cluster;
  /** The REST API; the local stack's for localnet. */
  apiUrl?: string;
  /** The SOL/USD price account, when not the cluster's usual one. */
  solUsdAccount?: string;
  /** How often `watch` and `compute` read a job (ms). */
  pollMs?: number;
};

export type ComputeRequest = {
  /** A model's short name (`h100-pcie`), its full name or its id. */
  gpu: string | number;
  /** Hours to buy; the total must reach the $5 minimum. */
  duration: number;
  /** A region's code (`eu-west`); the nearest with capacity when absent. */
  region?: string;
  /** An OpenSSH public key line, checked as the program checks it. */
  sshKey?: string;
  payWith?: Payment;
};

export type ComputeResult = {
  /** The job's id: its rental's address. */
  id: string;
  state: JobState;
  /** What the open took, in `unit` (lamports or Calor base units), and in USD. */
  cost: { amount: bigint; unit: 'lamports' | 'calor_base_units'; usd: number };
  /** Calor burned so far: none until settlement (`jobs.stop` returns the settlement). */
  burned: bigint;
  /** The opening transaction's signature. */
  tx: string;
};

/** What kind of failure a `CalorError` is. */
export type CalorErrorKind = 'invalid' | 'unavailable' | 'funds' | 'not_found' | 'network' | 'rejected';

/** Every failure of the SDK: a kind to branch on, a code, and a message that says what to do. */
export class CalorError extends Error {
  constructor(
    readonly kind: CalorErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CalorError';
  }
}

/** The short name of a GPU model: lowercase words joined by `-` (`H100 PCIe` → `h100-pcie`). */
export const gpuSlug = (name: string) =>
  name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join('-');

/** The Sign-In With Solana text a wallet signs for `input` (the layout wallets write). */
export function signInText(input: Schemas['SignInInput'], signer: string): string {
  const fields = [
    ['URI', input.uri],
    ['Version', input.version],
    ['Chain ID', input.chainId],
    ['Nonce', input.nonce],
    ['Issued At', input.issuedAt],
    ['Expiration Time', input.expirationTime],
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}: ${v}`);
  return `${input.domain} wants you to sign in with your Solana account:\n${signer}\n\n${input.statement}\n\n${fields.join('\n')}`;
}

const toBase64 = (bytes: Uint8Array) => getBase64Decoder().decode(bytes);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Calor {
  readonly wallet: CalorWallet;
  readonly rpcUrl: string;
  readonly apiUrl: string;
  readonly jobs: Jobs;
  readonly pollMs: number;
  private readonly solUsdAccount?: string;
  private context?: Promise<ChainContext>;
  private token?: Promise<string>;
  /** The API, typed from its OpenAPI description; signed-in calls carry the wallet's token. */
  readonly api;

  constructor(options: CalorOptions) {
    this.wallet = options.wallet;
    const cluster = options.cluster ?? 'localnet';
    this.rpcUrl = RPC_URLS[cluster] ?? cluster;
    if (!/^https?:\/\//.test(this.rpcUrl)) {
      throw new CalorError('invalid', 'unknown_cluster', `unknown cluster ${cluster}: use localnet, devnet, mainnet-beta or an http(s) URL`);
    }
    this.apiUrl = options.apiUrl ?? 'http://127.0.0.1:8080';
    this.solUsdAccount = options.solUsdAccount;
    this.pollMs = options.pollMs ?? 500;
    this.api = createClient<paths>({ baseUrl: this.apiUrl });
    this.jobs = new Jobs(this);
  }

  /** The RPC client and price account, made once. */
  chain(): Promise<ChainContext> {
    this.context ??= chainContext(this.rpcUrl, this.solUsdAccount ? address(this.solUsdAccount) : undefined);
    return this.context;
  }

  /** A bearer token for the API: Sign-In With Solana with the wallet's message signer. */
  async authorization(): Promise<Record<string, string>> {
    this.token ??= this.signIn().catch((e) => {
      this.token = undefined;
      throw e;
    });
    return { authorization: `Bearer ${await this.token}` };
  }

  /**
   * A signed-in API call; a token the API no longer takes (it expired) is replaced by a new
   * sign-in once.
   */
  async signedIn<T>(
    call: (headers: Record<string, string>) => Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { data, error, response } = await call(await this.authorization()).catch(networkError(this.apiUrl));
      if (data !== undefined) return data;
      if (response.status === 401 && attempt === 0) {
        this.token = undefined;
        continue;
      }
      throw apiError(error, response);
    }
  }

  private async signIn(): Promise<string> {
    const signer = this.wallet;
    if (!signer.signMessages) {
      throw new CalorError('invalid', 'no_message_signer', 'reading jobs from the API needs a wallet that signs messages');
    }
    const challenge = await this.api.POST('/api/auth/challenge').catch(networkError(this.apiUrl));
    if (!challenge.data) throw apiError(challenge.error, challenge.response);
    const text = new TextEncoder().encode(signInText(challenge.data, signer.address));
    const [signatures] = await signer.signMessages([createSignableMessage(text)]);
    const signature = signatures[signer.address];
    const verified = await this.api
      .POST('/api/auth/verify', {
        body: { address: signer.address, signedMessage: toBase64(text), signature: toBase64(signature) },
      })
      .catch(networkError(this.apiUrl));
    if (!verified.data) throw apiError(verified.error, verified.response);
    return verified.data.accessToken;
  }

  /** Signs `instructions` with the wallet (fee payer) and sends them; waits until confirmed. */
  async send(instructions: Instruction[]): Promise<string> {
    const ctx = await this.chain();
    const { rpc } = ctx;
    const unsigned = await unsignedTransaction(ctx, this.wallet.address, instructions);
    assertIsTransactionWithinSizeLimit(unsigned);
    const [signatures] = await this.wallet.signTransactions([unsigned]);
    const signed: Transaction = { ...unsigned, signatures: { ...unsigned.signatures, ...signatures } };
    const wire = getBase64EncodedWireTransaction(signed as Parameters<typeof getBase64EncodedWireTransaction>[0]);
    const signature = await rpc
      .sendTransaction(wire, { encoding: 'base64', preflightCommitment: 'confirmed' })
      .send()
      .catch((e: Error) => {
        throw new CalorError('rejected', 'transaction_rejected', `the transaction was refused: ${e.message}`);
      });
    for (let i = 0; i < 120; i++) {
      const { value } = await rpc.getSignatureStatuses([signature as Signature]).send();
      const status = value[0];
      if (status?.err) {
        const why = JSON.stringify(status.err, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        throw new CalorError('rejected', 'transaction_failed', `the transaction failed: ${why}`);
      }
      if (status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized') return signature;
      await sleep(250);
    }
    throw new CalorError('network', 'not_confirmed', `${signature} was not confirmed within 30 s`);
  }

  /**
   * Rents: the rate from the API's catalog (or, when the API does not answer, from the chain's
   * node accounts by the same rules), the quote by the program's rules from the chain's
   * accounts, a shortfall said before signing, the open built here and signed by the wallet;
   * then waits until the job runs (or fails).
   */
  async compute(request: ComputeRequest): Promise<ComputeResult> {
    // the API's catalog, or, when the API does not answer, the same rules over the chain's accounts
    const listed = await this.api.GET('/api/gpus').catch(() => null);
    if (listed && !listed.data && listed.response.status < 500) throw apiError(listed.error, listed.response);
    const catalog = listed?.data ?? (await catalogOnChain(await this.chain()));
    const asked = String(request.gpu);
    const model = catalog.models.find(
      (m) => m.active && (gpuSlug(m.name) === gpuSlug(asked) || String(m.id) === asked),
    );
    if (!model) throw new CalorError('invalid', 'unknown_gpu', `unknown GPU ${asked}: the catalog lists ${catalog.models.map((m) => gpuSlug(m.name)).join(', ')}`);
    const region = request.region == null ? undefined : model.regions.find((r) => r.code === request.region || String(r.id) === request.region);
    if (request.region != null && !region) throw new CalorError('invalid', 'unknown_region', `unknown region ${request.region}`);
    const rate = (region ?? model).rate;
    if (!rate) {
      throw new CalorError('unavailable', 'no_capacity', `no ${model.name} is online${region ? ` in ${region.code}` : ''}: nothing to rent now`);
    }
    const sshKey = request.sshKey?.trim() || null;
    const keyProblem = sshKey ? checkSshKey(sshKey) : null;
    if (keyProblem) throw new CalorError('invalid', 'bad_ssh_key', `the SSH key is refused: ${sshKeyErrorText[keyProblem]}`);
    const payment = request.payWith ?? 'sol';
    const ctx = await this.chain();
    const renter = this.wallet.address;
    const hourly = BigInt(rate.marketMicroUsd);
    const q = await quoteOnChain(ctx, renter, hourly, request.duration, payment);
    if ('error' in q.result) {
      const e = q.result.error;
      const kind = e.kind === 'price' || e.kind === 'notAPriceUpdate' ? 'unavailable' : 'invalid';
      throw new CalorError(kind, e.kind === 'belowMinimum' ? 'below_minimum' : e.kind, quoteErrorText(e));
    }
    const quoted = q.result.ok;
    const short = shortfall(q, quoted);
    if (short) {
      const amount =
        short.unit === 'sol' ? sol : (n: bigint) => `${(Number(n) / 10 ** q.calorDecimals).toFixed(4)} Calor`;
      const what = short.unit === 'sol' ? 'SOL' : 'Calor';
      throw new CalorError('funds', 'insufficient_funds', `insufficient ${what}: need ${amount(short.need)}, have ${amount(short.have)}`);
    }
    const open = await openInstruction(ctx, {
      renter,
      gpu: model.id,
      region: region?.id ?? null,
      hours: request.duration,
      hourlyRateMicroUsd: hourly,
      sshKey,
      payment,
      maxPayment: quoted.maxPayment,
    });
    const tx = await this.send([open.instruction]);
    const id = open.rental;
    const done = ['running', 'failed', 'cancelled'];
    let state: JobState = 'queued';
    for (let i = 0; i < 600 && !done.includes(state); i++) {
      await sleep(this.pollMs);
      state = (await this.jobs.state(id)) ?? state;
    }
    return {
      id,
      state,
      cost: { amount: quoted.amount, unit: payment === 'sol' ? 'lamports' : 'calor_base_units', usd: Number(quoted.paidUsdMicro) / 1e6 },
      // nothing is burned before settlement
      burned: 0n,
      tx,
    };
  }
}

const sol = (lamports: bigint) => `${(Number(lamports) / 1e9).toFixed(4)} SOL`;

function networkError(url: string) {
  return (e: Error): never => {
    throw new CalorError('network', 'api_unreachable', `the API at ${url} does not answer: ${e.message}`);
  };
}

function apiError(problem: unknown, response: Response): CalorError {
  const p = problem as { title?: string; detail?: string; code?: string } | undefined;
  const kind: CalorErrorKind =
    response.status === 404 ? 'not_found' : response.status === 402 || response.status === 403 ? 'funds' : response.status >= 500 ? 'network' : 'invalid';
  return new CalorError(kind, p?.code ?? `http_${response.status}`, p?.detail ?? p?.title ?? `the API answered ${response.status}`);
}

/** The wallet's jobs: reads from the API, stops on chain. */
export class Jobs {
  constructor(private readonly calor: Calor) {}

  /** One job of the wallet's, by its id or its rental's address. */
  async get(id: string): Promise<Job> {
    return this.calor.signedIn((headers) => this.calor.api.GET('/api/jobs/{id}', { params: { path: { id } }, headers }));
  }

  /**
   * The job's state: from the API, or, when it does not answer (or has not indexed the job
   * yet), from the rental account itself; null once the account is settled and closed.
   */
  async state(id: string): Promise<JobState | null> {
    try {
      return (await this.get(id)).state as JobState;
    } catch (e) {
      if (!(e instanceof CalorError) || (e.kind !== 'network' && e.kind !== 'not_found')) throw e;
      const rental = await readRental(await this.calor.chain(), id);
      return rental ? (stateName(rental.state) as JobState) : null;
    }
  }

  /** The wallet's jobs, newest first, filtered by state and pinned region. */
  async list(filter: { status?: JobState; region?: number; limit?: number } = {}): Promise<Job[]> {
    const page = await this.calor.signedIn((headers) => this.calor.api.GET('/api/jobs', { params: { query: filter }, headers }));
    return page.jobs;
  }

  /**
   * Calls `callback` with the job now and each time its state changes, until it is settled;
   * returns a function that stops watching.
   */
  watch(id: string, callback: (job: Job) => void, onError?: (e: CalorError) => void): () => void {
    let stopped = false;
    let last: string | null = null;
    void (async () => {
      while (!stopped) {
        try {
          const job = await this.get(id);
          const seen = `${job.state}/${job.timeline.length}`;
          if (seen !== last && !stopped) {
            last = seen;
            callback(job);
          }
          if (job.timeline.some((e) => e.kind === 'settled')) return;
        } catch (e) {
          if (e instanceof CalorError && e.kind !== 'network' && e.kind !== 'not_found') {
            onError?.(e);
            return;
          }
        }
        await sleep(this.calor.pollMs);
      }
    })();
    return () => {
      stopped = true;
    };
  }

  /**
   * Stops the job (cancel or complete) and settles it in the same transaction, built here and
   * signed by the wallet: no API needed for that. Then, when the API answers, the job with its
   * settlement (provider pay, fee, burn, refund) once indexed.
   */
  async stop(id: string): Promise<{ tx: string; settles: boolean; job: Job | null }> {
    const ctx = await this.calor.chain();
    const rentalAddress = id.includes('-') ? (await this.get(id)).rental : id;
    const rental = await readRental(ctx, rentalAddress);
    if (!rental || rental.renter !== this.calor.wallet.address) {
      throw new CalorError('not_found', 'not_found', `no open job ${id} of this wallet`);
    }
    const stop = await stopInstructions(ctx, rentalAddress, rental).catch((e: Error) => {
      throw new CalorError('invalid', 'not_stoppable', e.message);
    });
    const tx = await this.calor.send(stop.instructions);
    let job: Job | null = null;
    for (let i = 0; i < 240; i++) {
      try {
        job = await this.get(rentalAddress);
      } catch (e) {
        // the API does not answer: the stop is on chain all the same
        if (e instanceof CalorError && e.kind === 'network') break;
      }
      if (!stop.settles || job?.timeline.some((e) => e.kind === 'settled')) break;
      await sleep(this.calor.pollMs);
    }
    return { tx, settles: stop.settles, job };
  }

  /** The rental's address of a job. */
  address(id: string): Address {
    return address(id);
  }
}
