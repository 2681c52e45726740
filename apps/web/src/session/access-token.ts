import { api } from '../api';

/** A fresh access token for the signaling handshake (refreshed when it is about to expire). */
export async function currentToken(): Promise<string> {
  const s = api.session;
  if (s && new Date(s.accessTokenExpiresAt).getTime() - Date.now() > 30_000) return s.accessToken;
  // Guests have no refresh cookie: their token is what it is.
  if (s?.user.role !== 'guest') {
    try {
      return (await api.refresh()).accessToken;
    } catch {
      // Fall through: the server refuses an expired token with a clear error.
    }
  }
  return api.accessToken ?? '';
}
