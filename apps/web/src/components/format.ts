/** Shared display formats for money and dates, in the interface language. */
export function formatTokens(amount: number, locale: string | undefined): string {
  return new Intl.NumberFormat(locale).format(amount);
}

export function formatPrice(cents: number, currency: string, locale: string | undefined): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(cents / 100);
}

export function formatDateTime(iso: string, locale: string | undefined): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}
