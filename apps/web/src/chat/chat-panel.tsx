import type { ChatClient, ChatMessageItem, ChatSnapshot, ChatTipItem } from '@fusionflow/client';
import { CHAT_REACTIONS, type ChatReaction, type SignalingErrorMessage } from '@fusionflow/protocol';
import {
  createContext,
  type FormEvent,
  type KeyboardEvent,
  useContext,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import en from '../i18n/en.json';
import { returnHere } from '../session/return-path';
import { ReportMessage } from './report-message';
import { useChatSnapshot } from './use-chat';

/** What a chat request answered: shown to the reader when refused. */
type ChatResult = { ok: boolean; error?: SignalingErrorMessage };

/** What each control of one message gets. */
interface MessageProps {
  client: ChatClient;
  snap: ChatSnapshot;
  item: ChatMessageItem;
  onResult: (r: ChatResult) => void;
}

type ChatErrorKey = keyof typeof en.chat.errors;
const CHAT_ERRORS = new Set(Object.keys(en.chat.errors).map((k) => k.replace(/_(one|other)$/, ''))) as Set<string>;

/** A language's name as a word in a sentence of the interface's language ("English", "español"). */
function languageInSentence(code: string, uiLanguage: string | undefined): string {
  try {
    return new Intl.DisplayNames([uiLanguage ?? 'en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** The room's host (its owner): their messages say "Host", other moderators' "Moderator". */
const HostContext = createContext<string | undefined>(undefined);

/** Mute lengths offered to moderators, in minutes. */
const MUTE_MINUTES = [5, 10, 60] as const;

/** Near the bottom of the list: new messages keep it scrolled down. */
const STICK_PX = 48;

/**
 * The chat of a room (watch, studio and call pages): messages in the reader's language with the
 * original at once and the translation when it comes, reactions, older pages, a send box with the
 * server's coded refusals, and the moderators' menu and settings.
 */
export function ChatPanel({
  client,
  signedIn,
  hostId,
}: {
  client: ChatClient | null;
  signedIn: boolean;
  /** The room owner's user id. */
  hostId?: string;
}) {
  const { t } = useTranslation();
  const snap = useChatSnapshot(client);
  const [error, setError] = useState<SignalingErrorMessage | null>(null);
  const report = (result: ChatResult) => {
    setError(result.ok ? null : (result.error ?? null));
  };

  return (
    <HostContext.Provider value={hostId}>
      <section className="chat" aria-label={t('chat.title')} data-testid="chat" data-status={snap?.status ?? 'off'}>
        <header className="chat-head">
          <h2>{t('chat.title')}</h2>
          {snap && <ChatStatusLine snap={snap} />}
        </header>
        {!client || !snap ? (
          <p className="muted chat-note">{signedIn ? t('chat.connecting') : <SignInToChat />}</p>
        ) : (
          <>
            <MessageList client={client} snap={snap} onResult={report} />
            <ChatError error={error} onDismiss={() => setError(null)} />
            <Composer client={client} snap={snap} onResult={report} />
            {snap.canModerate && <ChatSettings client={client} snap={snap} />}
          </>
        )}
      </section>
    </HostContext.Provider>
  );
}

function SignInToChat() {
  const { t } = useTranslation();
  const location = useLocation();
  return (
    <>
      {t('chat.signInToChat')}{' '}
      <Link to="/signin" state={returnHere(location)}>
        {t('chat.signIn')}
      </Link>
    </>
  );
}

function ChatStatusLine({ snap }: { snap: ChatSnapshot }) {
  const { t, i18n } = useTranslation();
  const notes: Array<{ key: string; text: string; tone?: 'warn' }> = [];
  if (snap.status === 'connecting' || snap.status === 'joining') notes.push({ key: 's', text: t('chat.connecting') });
  if (snap.status === 'reconnecting') notes.push({ key: 's', text: t('chat.reconnecting'), tone: 'warn' });
  if (snap.status === 'ended') {
    // An admin who ended the stream gave a reason: the viewers read it.
    const reason = snap.endReason;
    notes.push({ key: 's', text: reason ? t('governance.endedBecause', { reason }) : t('chat.ended') });
  }
  if (snap.status === 'removed') notes.push({ key: 's', text: t('chat.removed'), tone: 'warn' });
  if (snap.status === 'failed') {
    notes.push(
      snap.error?.code === 'ticket_required'
        ? { key: 's', text: t('chat.ticketRequired') }
        : { key: 's', text: t('chat.failed', { message: snap.error?.message ?? '' }), tone: 'warn' },
    );
  }
  if (snap.status === 'ready') {
    notes.push(
      snap.translationAvailable
        ? {
            key: 'l',
            text: t('chat.readingIn', { language: languageInSentence(snap.language, i18n.resolvedLanguage) }),
          }
        : { key: 'l', text: t('chat.untranslatedAll'), tone: 'warn' },
    );
  }
  return (
    <div className="chat-status" role="status" data-testid="chat-status">
      {notes.map((n) => (
        <p key={n.key} className={n.tone === 'warn' ? 'chat-warn' : 'muted'}>
          {n.text}
        </p>
      ))}
    </div>
  );
}

function MessageList({
  client,
  snap,
  onResult,
}: {
  client: ChatClient;
  snap: ChatSnapshot;
  onResult: (r: ChatResult) => void;
}) {
  const { t } = useTranslation();
  const listRef = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const olderFrom = useRef<number | null>(null);

  // Keep to the bottom while the reader is there; keep the place when older messages come in above.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs after every change of the items
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    if (olderFrom.current !== null) {
      list.scrollTop += list.scrollHeight - olderFrom.current;
      olderFrom.current = null;
    } else if (stick.current) {
      list.scrollTop = list.scrollHeight;
    }
  }, [snap.items]);

  const loadOlder = () => {
    if (!snap.hasMore || snap.loadingOlder) return;
    olderFrom.current = listRef.current?.scrollHeight ?? null;
    void client.loadOlder().then((r) => {
      if (!r.ok) olderFrom.current = null;
      onResult(r);
    });
  };

  const onScroll = () => {
    const list = listRef.current;
    if (!list) return;
    stick.current = list.scrollHeight - list.scrollTop - list.clientHeight < STICK_PX;
    if (list.scrollTop < 24) loadOlder();
  };

  return (
    <div className="chat-body">
      {snap.hasMore && (
        <button
          type="button"
          className="button button-quiet chat-older"
          data-testid="chat-load-older"
          disabled={snap.loadingOlder}
          onClick={loadOlder}
        >
          {snap.loadingOlder ? t('chat.loadingOlder') : t('chat.loadOlder')}
        </button>
      )}
      {/* role="log": new messages are announced politely, older ones loaded above are not read out of order. */}
      <ol
        ref={listRef}
        className="chat-list"
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label={t('chat.messages')}
        data-testid="chat-messages"
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the scrolling list must be reachable by keyboard
        tabIndex={0}
      >
        {snap.items.length === 0 && <li className="muted chat-empty">{t('chat.empty')}</li>}
        {snap.items.map((item) =>
          item.kind === 'tip' ? (
            <TipLine key={item.key} tip={item} />
          ) : (
            <MessageLine key={item.key} client={client} snap={snap} item={item} onResult={onResult} />
          ),
        )}
      </ol>
    </div>
  );
}

function TipLine({ tip }: { tip: ChatTipItem }) {
  const { t } = useTranslation();
  return (
    <li className="chat-tip" data-testid="chat-tip">
      <span className="chat-tip-coin" aria-hidden="true">
        ★
      </span>
      <span>
        <strong>{t('chat.tipped', { name: tip.from.displayName, count: tip.amount })}</strong>
        {tip.message && <span className="chat-tip-message"> “{tip.message}”</span>}
      </span>
    </li>
  );
}

function MessageLine({ client, snap, item, onResult }: MessageProps) {
  const { t, i18n } = useTranslation();
  const hostId = useContext(HostContext);
  const time = new Intl.DateTimeFormat(i18n.resolvedLanguage, { timeStyle: 'short' }).format(new Date(item.sentAt));
  const from = languageInSentence(item.language, i18n.resolvedLanguage);
  const restriction = snap.restrictions.get(item.author.userId);
  const canReact = snap.canSend || (snap.self !== null && !snap.self.guest && snap.status === 'ready');
  return (
    <li
      className={`chat-message${item.mine ? ' chat-mine' : ''}${item.delivery === 'sending' ? ' chat-sending' : ''}`}
      data-testid="chat-message"
      data-message-id={item.id ?? ''}
      data-author={item.author.displayName}
      data-translation={item.translation.status}
      data-delivery={item.delivery}
    >
      <div className="chat-meta">
        <span className="chat-author">{item.mine ? t('chat.you') : item.author.displayName}</span>
        {item.author.moderator && (
          <span className="badge chat-badge" data-testid="chat-author-badge">
            {item.author.userId === hostId ? t('chat.host') : t('chat.moderator')}
          </span>
        )}
        {restriction?.banned && <span className="badge chat-badge-warn">{t('chat.bannedUser')}</span>}
        {restriction?.mutedUntil && <span className="badge chat-badge-warn">{t('chat.mutedUser')}</span>}
        <time dateTime={item.sentAt} className="chat-time">
          {time}
        </time>
        {item.delivery === 'sending' && <span className="chat-note-inline">{t('chat.sending')}</span>}
        {item.id !== null && (snap.canModerate || item.mine) && (
          <ModerationMenu client={client} snap={snap} item={item} onResult={onResult} />
        )}
        {item.id !== null && !item.mine && snap.self !== null && !snap.self.guest && (
          <ReportMessage roomId={snap.roomId} messageId={item.id} author={item.author.displayName} />
        )}
      </div>
      <p className="chat-text" data-testid="chat-text" lang={item.translated ? snap.language : item.language}>
        {item.text}
      </p>
      <div className="chat-translation">
        {item.translation.status === 'pending' && <span className="chat-note-inline">{t('chat.translating')}</span>}
        {item.translation.status === 'ok' && (
          <>
            {item.translated && (
              <span className="chat-note-inline">{t('chat.translatedFrom', { language: from })}</span>
            )}
            <button
              type="button"
              className="chat-link"
              data-testid="chat-toggle-original"
              aria-pressed={item.showOriginal}
              onClick={() => item.id && client.toggleOriginal(item.id)}
            >
              {item.showOriginal ? t('chat.showTranslation') : t('chat.showOriginal')}
            </button>
          </>
        )}
        {item.translation.status === 'unsupported' && (
          <span className="chat-note-inline chat-warn" data-testid="chat-untranslated">
            {t('chat.unsupported', { language: from })}
          </span>
        )}
        {item.translation.status === 'unavailable' && (
          <span className="chat-note-inline chat-warn" data-testid="chat-untranslated">
            {t('chat.unavailable')}
          </span>
        )}
      </div>
      {item.id !== null && <Reactions client={client} item={item} canReact={canReact} onResult={onResult} />}
    </li>
  );
}

function Reactions({
  client,
  item,
  canReact,
  onResult,
}: {
  client: ChatClient;
  item: ChatMessageItem;
  canReact: boolean;
  onResult: (r: ChatResult) => void;
}) {
  const { t } = useTranslation();
  const [picking, setPicking] = useState(false);
  const pickerId = useId();
  const react = (emoji: ChatReaction, on?: boolean) => {
    setPicking(false);
    if (item.id) void client.react(item.id, emoji, on).then(onResult);
  };
  return (
    <div className="chat-reactions">
      {item.reactions.map((r) => (
        <button
          key={r.emoji}
          type="button"
          className={`chat-reaction${r.mine ? ' chat-reaction-mine' : ''}`}
          aria-pressed={r.mine}
          aria-label={t('chat.reactionLabel', { emoji: r.emoji, count: r.count })}
          disabled={!canReact}
          onClick={() => react(r.emoji, !r.mine)}
        >
          <span aria-hidden="true">{r.emoji}</span> {r.count}
        </button>
      ))}
      {canReact && (
        <>
          <button
            type="button"
            className="chat-link"
            aria-expanded={picking}
            aria-controls={pickerId}
            onClick={() => setPicking((p) => !p)}
          >
            {t('chat.react')}
          </button>
          {picking && (
            <fieldset id={pickerId} className="chat-picker">
              <legend className="visually-hidden">{t('chat.react')}</legend>
              {CHAT_REACTIONS.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  className="chat-reaction"
                  aria-label={t('chat.reactWith', { emoji })}
                  onClick={() => react(emoji, true)}
                >
                  {emoji}
                </button>
              ))}
            </fieldset>
          )}
        </>
      )}
    </div>
  );
}

function ModerationMenu({ client, snap, item, onResult }: MessageProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDetailsElement>(null);
  const userId = item.author.userId;
  const restriction = snap.restrictions.get(userId);
  const others = snap.canModerate && !item.mine && !item.author.moderator;
  const run = (work: Promise<ChatResult>) => {
    if (ref.current) ref.current.open = false;
    void work.then(onResult);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDetailsElement>) => {
    if (e.key === 'Escape' && ref.current) ref.current.open = false;
  };
  return (
    <details className="chat-menu" ref={ref} onKeyDown={onKeyDown} data-testid="chat-menu">
      <summary aria-label={t('chat.moderate', { name: item.author.displayName })}>⋯</summary>
      <div className="chat-menu-items">
        <button
          type="button"
          className="button button-quiet"
          data-testid="chat-delete"
          onClick={() => item.id && run(client.delete(item.id))}
        >
          {t('chat.delete')}
        </button>
        {others && (
          <>
            {MUTE_MINUTES.map((minutes) => (
              <button
                key={minutes}
                type="button"
                className="button button-quiet"
                onClick={() => run(client.moderate({ action: 'mute', userId, durationSeconds: minutes * 60 }))}
              >
                {t('chat.muteFor', { count: minutes })}
              </button>
            ))}
            {restriction?.mutedUntil && (
              <button
                type="button"
                className="button button-quiet"
                onClick={() => run(client.moderate({ action: 'unmute', userId }))}
              >
                {t('chat.unmute')}
              </button>
            )}
            {restriction?.banned ? (
              <button
                type="button"
                className="button button-quiet"
                onClick={() => run(client.moderate({ action: 'unban', userId }))}
              >
                {t('chat.unban')}
              </button>
            ) : (
              <button
                type="button"
                className="button button-quiet chat-danger"
                onClick={() => run(client.moderate({ action: 'ban', userId }))}
              >
                {t('chat.ban')}
              </button>
            )}
          </>
        )}
      </div>
    </details>
  );
}

function ChatError({ error, onDismiss }: { error: SignalingErrorMessage | null; onDismiss: () => void }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <div className="alert chat-alert" role="alert" data-testid="chat-error" data-code={error.code}>
      <p className="alert-title">{chatErrorText(t, error)}</p>
      <details className="alert-meta">
        <summary>{t('errors.details')}</summary>
        <code>{t('errors.code', { code: error.code })}</code>
      </details>
      <button type="button" className="chat-link" onClick={onDismiss}>
        {t('chat.dismiss')}
      </button>
    </div>
  );
}

type T = ReturnType<typeof useTranslation>['t'];

/** A coded refusal in words (with how long to wait, when the server said). */
export function chatErrorText(t: T, error: SignalingErrorMessage): string {
  if (!CHAT_ERRORS.has(error.code)) return t('chat.errors.generic', { message: error.message });
  const key = `chat.errors.${error.code}` as `chat.errors.${ChatErrorKey}`;
  const wait = error.retryAfterSeconds;
  if ((error.code === 'muted' || error.code === 'rate_limited') && wait !== undefined) {
    return t(`chat.errors.${error.code}Wait`, { count: Math.max(1, Math.ceil(wait)) });
  }
  return t(key as 'chat.errors.generic', { message: error.message });
}

function Composer({
  client,
  snap,
  onResult,
}: {
  client: ChatClient;
  snap: ChatSnapshot;
  onResult: (r: ChatResult) => void;
}) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const [text, setText] = useState('');
  const [now, setNow] = useState(() => Date.now());
  const length = [...text].length;

  // A mute ends by itself: show the box again when it does.
  useEffect(() => {
    if (!snap.mutedUntil) return;
    const timer = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(timer);
  }, [snap.mutedUntil]);

  if (snap.self?.guest || !snap.self) {
    if (snap.status !== 'ready') return null;
    return (
      <p className="muted chat-note" data-testid="chat-sign-in">
        <SignInToChat />
      </p>
    );
  }
  if (snap.mutedUntil && Date.parse(snap.mutedUntil) > now) {
    const until = new Intl.DateTimeFormat(i18n.resolvedLanguage, { timeStyle: 'short' }).format(
      new Date(snap.mutedUntil),
    );
    return (
      <p className="chat-warn chat-note" data-testid="chat-muted">
        {t('chat.mutedUntil', { time: until })}
      </p>
    );
  }
  if (snap.status === 'removed' || snap.status === 'ended' || snap.status === 'failed') return null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = text.trim();
    if (!value) return;
    setText('');
    void client.send(value).then((result) => {
      onResult(result);
      // Refused: give the words back to edit (unless something new was typed meanwhile).
      if (!result.ok) setText((current) => current || value);
    });
  };

  return (
    <form className="chat-composer" onSubmit={submit} data-testid="chat-composer">
      <label htmlFor={id}>{t('chat.messageLabel')}</label>
      <div className="chat-composer-row">
        <textarea
          id={id}
          value={text}
          rows={2}
          maxLength={snap.maxLength}
          aria-describedby={`${id}-count`}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
        />
        <button type="submit" className="button button-primary" disabled={length === 0 || length > snap.maxLength}>
          {t('chat.send')}
        </button>
      </div>
      <p className="hint" id={`${id}-count`}>
        {t('chat.counter', { count: length, max: snap.maxLength })}
        {snap.slowModeSeconds > 0 && <> · {t('chat.slowMode', { count: snap.slowModeSeconds })}</>}
      </p>
    </form>
  );
}

function ChatSettings({ client, snap }: { client: ChatClient; snap: ChatSnapshot }) {
  const { t } = useTranslation();
  const id = useId();
  const [slow, setSlow] = useState(String(snap.slowModeSeconds));
  const [words, setWords] = useState(snap.blockedWords.join('\n'));
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<SignalingErrorMessage | null>(null);
  const [pending, setPending] = useState(false);
  const [open, setOpen] = useState(false);

  // Follow the server while the form is closed (another moderator may change them).
  useEffect(() => {
    if (open) return;
    setSlow(String(snap.slowModeSeconds));
    setWords(snap.blockedWords.join('\n'));
  }, [open, snap.slowModeSeconds, snap.blockedWords]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setSaved(false);
    setError(null);
    const blockedWords = [
      ...new Set(
        words
          .split(/[\n,]/)
          .map((w) => w.trim())
          .filter(Boolean),
      ),
    ];
    const result = await client.updateSettings({ slowModeSeconds: Number(slow) || 0, blockedWords });
    setPending(false);
    if (result.ok) setSaved(true);
    else setError(result.error);
  };

  return (
    <details className="chat-settings" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{t('chat.settings')}</summary>
      <form className="chat-settings-form" onSubmit={(e) => void submit(e)} data-testid="chat-settings">
        <div className="field">
          <label htmlFor={`${id}-slow`}>{t('chat.slowModeLabel')}</label>
          <input
            id={`${id}-slow`}
            type="number"
            min={0}
            max={3600}
            step={1}
            inputMode="numeric"
            value={slow}
            onChange={(e) => setSlow(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-words`}>{t('chat.blockedWordsLabel')}</label>
          <textarea id={`${id}-words`} rows={3} value={words} onChange={(e) => setWords(e.target.value)} />
          <p className="hint">{t('chat.blockedWordsHint')}</p>
        </div>
        <button type="submit" className="button" disabled={pending}>
          {t('chat.saveSettings')}
        </button>
        {saved && (
          <p className="status" role="status">
            {t('chat.settingsSaved')}
          </p>
        )}
        {error && (
          <p className="alert-title" role="alert">
            {chatErrorText(t, error)}
          </p>
        )}
      </form>
    </details>
  );
}
