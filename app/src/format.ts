// Amounts and times as the app shows them.
export const usd = (n: number | null | undefined): string => (n == null ? '—' : `$${n.toFixed(2)}`);

/** Decimals of the two payment units (SOL: 9; the Calor mint: 6, calor_client::catalog). */
export const DECIMALS: Record<string, [number, string]> = {
  lamports: [9, 'SOL'],
  // a job's costs name the unit `calor_base_units`; the API's problems say "Calor base units"
  calor_base_units: [6, 'Calor'],
  'Calor base units': [6, 'Calor'],
};

/** An amount in lamports or Calor base units, as the API's job costs give them. */
export function units(amount: number | null | undefined, unit: string): string {
  if (amount == null) return '—';
  const [decimals, name] = DECIMALS[unit] ?? [0, unit];
  return `${(amount / 10 ** decimals).toFixed(6)} ${name}`;
}

export function when(unix: number | null | undefined): string {
  return unix == null ? '—' : new Date(unix * 1000).toLocaleString();
}

export function duration(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/** Lamports as SOL, to six decimals (as the quote and the balances show it). */
export const solText = (lamports: bigint): string => `${(Number(lamports) / 1e9).toFixed(6)} SOL`;

/** Whole Calor typed by a person ("1500", "0.25") as base units; `null` when it is not one. */
export function parseCalor(text: string, decimals: number): bigint | null {
  const m = text.trim().match(/^(\d+)(?:\.(\d+))?$/);
  if (!m || (m[2] ?? '').length > decimals) return null;
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt((m[2] ?? '').padEnd(decimals, '0') || '0');
}

/** Base units as whole Calor, trailing zeros dropped. */
export function calorText(units: bigint | number, decimals: number): string {
  const n = BigInt(units);
  const scale = 10n ** BigInt(decimals);
  const fraction = (n % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${(n / scale).toLocaleString('en-US')}${fraction ? `.${fraction}` : ''} Calor`;
}

/** Whole Calor in `baseUnits` (the API's amounts are base units). */
export const wholeCalor = (baseUnits: number): number => baseUnits / 10 ** DECIMALS['Calor base units'][0];
