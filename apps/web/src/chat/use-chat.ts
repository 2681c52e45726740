import { ChatClient, type ChatSnapshot } from '@fusionflow/client';
import type { User } from '@fusionflow/protocol';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { i18n } from '../i18n/i18n';
import { currentToken } from '../session/access-token';
import { useSession } from '../session/session-context';

/**
 * The language this person reads chat in: the account's preferred language (the profile's picker);
 * a guest reads in the interface's language.
 */
export function chatLanguage(user: User | null): string {
  if (user && user.role !== 'guest') return user.language;
  return i18n.resolvedLanguage ?? 'en';
}

/**
 * The chat of a room on a connection of its own (live rooms: the watch and studio pages have no
 * call connection). Opens once somebody is signed in (a guest session too, read-only) and again
 * when the account or its language changes; closed when the page goes.
 */
export function useRoomChat(roomId: string, enabled: boolean): ChatClient | null {
  const { user } = useSession();
  const [client, setClient] = useState<ChatClient | null>(null);
  const userId = user?.id ?? null;
  const language = chatLanguage(user);
  useEffect(() => {
    if (!enabled || !userId) {
      setClient(null);
      return;
    }
    const chat = ChatClient.connect({ token: currentToken, roomId, language });
    setClient(chat);
    return () => chat.close();
  }, [enabled, roomId, userId, language]);
  return client;
}

const EMPTY = () => () => undefined;

/** The chat's current snapshot, re-rendering on every change (null without a client). */
export function useChatSnapshot(client: ChatClient | null): ChatSnapshot | null {
  return useSyncExternalStore(client ? client.subscribe : EMPTY, client ? client.getSnapshot : () => null, () => null);
}
