// Display formatting: prices with their currency (Intl), scores, timings, category names.

const locale = (): string => navigator.language || 'en-US';
const priceFormats = new Map<string, Intl.NumberFormat>();

export function formatPrice(price: number | null, currency: string | null): string {
  if (price === null || !Number.isFinite(price)) return 'Price not listed';
  if (!currency) return new Intl.NumberFormat(locale(), { minimumFractionDigits: 2 }).format(price);
  let fmt = priceFormats.get(currency);
  if (!fmt) {
    try {
      fmt = new Intl.NumberFormat(locale(), { style: 'currency', currency });
    } catch {
      // Not an ISO 4217 code: show the number and the code as given.
      return `${price.toFixed(2)} ${currency}`;
    }
    priceFormats.set(currency, fmt);
  }
  return fmt.format(price);
}

/** A 0..1 similarity as "0.54". */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(2) : '–';
}

/** A 0..1 share as "97%" (or "0.4%" below 1%). */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return '–';
  const pct = share * 100;
  return pct > 0 && pct < 1 ? `${pct.toFixed(1)}%` : `${Math.round(pct)}%`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 0.1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** "drinks" -> "Drinks", "home_garden" -> "Home garden". */
export function categoryLabel(name: string): string {
  const s = name.replace(/[_-]+/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A 0..1 value clamped for a bar's width. */
export function barWidth(v: number): string {
  const c = Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0));
  return `${(c * 100).toFixed(1)}%`;
}

/** "1 product", "85 products": a count with its noun (plural by a trailing s unless given). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
