/**
 * "Come back here": pages that send a person elsewhere for a moment (sign in, top up the wallet)
 * pass the page they were on as router state `{ from }`; the page they went to returns there.
 */
export interface ReturnState {
  from: string;
}

/** The state to pass along: this page (path and query). */
export const returnHere = (location: { pathname: string; search: string }): ReturnState => ({
  from: `${location.pathname}${location.search}`,
});

/** The page to go back to: a same-site path from the router state, or undefined (never another origin). */
export function returnPath(state: unknown): string | undefined {
  const from = (state as { from?: unknown } | null)?.from;
  return typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') && !from.startsWith('/\\')
    ? from
    : undefined;
}
