// Messages between the chat benchmark (the server's process) and its client processes.

/** One simulated room member, as the client process gets it. */
export interface MemberSpec {
  /** Index over all members of the run (also over client processes). */
  index: number;
  /** Access token: a guest's for readers, a registered account's for senders. */
  token: string;
  /** The language the member reads chat in (sent in `join`). */
  language: string;
  /** Sends messages (a registered account); senders are members that read too. */
  sender: boolean;
}

/** One phase of messages (the warm-up or the measured window). */
export interface PhasePlan {
  /** Letters only; the clientId of message k is `${tag}-${k}-${send time in epoch µs}`. */
  tag: string;
  /** Messages sent in the phase. */
  count: number;
  /** Messages per second, over all senders. */
  rate: number;
  /** Message k is sent by sender k % senders.length, in that sender's language. */
  senderLanguages: string[];
  /** First sentence number (texts are distinct over the run so no translation is a cache hit). */
  textOffset: number;
  /** False without an engine: the server then sends no `chat:translation` at all (`chat:state` said so). */
  translates: boolean;
}

export type ParentMessage =
  | { type: 'setup'; url: string; roomId: string; members: MemberSpec[] }
  | { type: 'join' }
  | { type: 'prepare'; plan: PhasePlan }
  | { type: 'send' }
  | { type: 'finish' }
  | { type: 'exit' };

export interface PhaseResult {
  /** Latency samples, ms: send → chat:message at each member (this process's members). */
  originals: Float32Array;
  /** send → chat:translation with status ok, at each reader of another language. */
  translationsOk: Float32Array;
  /** send → chat:translation with another status (unsupported, unavailable). */
  translationsOther: Float32Array;
  /** send → the sender's acknowledgement (only the process with the senders). */
  acks: Float32Array;
  originalsExpected: number;
  translationsExpected: number;
  duplicateOriginals: number;
  duplicateTranslations: number;
  /** Translations whose language is not the reader's. */
  wrongLanguage: number;
  /** Status ok, but the text is the original's. */
  unchangedTranslations: number;
  translationStatus: Record<string, number>;
  /** Acknowledgements with ok: false, by error code. */
  ackErrors: Record<string, number>;
  /** Events of another phase (a late warm-up message). */
  stray: number;
  /** Coded `error` events and disconnects during the phase. */
  errors: Record<string, number>;
  disconnects: number;
  /** This process's CPU time from `prepare` until it had everything (or `finish`), µs. */
  cpuMicros: number;
  /** Per message k of the phase: latency sums (ms) and counts, for the trend over the phase. */
  byMessage: {
    originalSum: Float64Array;
    originalN: Uint32Array;
    translationSum: Float64Array;
    translationN: Uint32Array;
  };
  /** A few translations, one per language (for the report). */
  samples: { original: string; language: string; translated: string }[];
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'connected'; ms: number; failures: string[] }
  | { type: 'joined'; latencies: Float32Array; failures: string[] }
  | { type: 'prepared' }
  | { type: 'sent'; sent: number; seconds: number; lateSends: number }
  | { type: 'drained' }
  | { type: 'result'; result: PhaseResult };
