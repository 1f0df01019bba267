// Amounts and times as the app shows them.
export const usd = (n: number | null | undefined): string => (n == null ? '—' : `$${n.toFixed(2)}`);

/** Decimals of the two payment units (SOL: 9; the Calor mint: 6, calor_client::catalog). */
const DECIMALS: Record<string, [number, string]> = {
  lamports: [9, 'SOL'],
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
