import type { MediaEvent } from '@fusionflow/protocol';

export type MediaEventInput = Omit<MediaEvent, 'id' | 'at'>;

/** Where the SFU's session events go: the control plane, or nowhere in standalone mode. */
export interface EventSink {
  report(event: MediaEventInput): void;
  /** Deliver what is queued (bounded wait), then stop. */
  close(): Promise<void>;
}

export const discardEvents: EventSink = {
  report: () => {},
  close: async () => {},
};
