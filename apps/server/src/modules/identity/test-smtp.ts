import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/**
 * A real SMTP server (npm smtp-server) on 127.0.0.1 that keeps what it receives, for tests of the
 * mail the platform sends. Plain SMTP on loopback, any credentials accepted.
 */
export async function startTestSmtp(): Promise<{
  url: string;
  mails: ReceivedMail[];
  next(): Promise<ReceivedMail>;
  close(): Promise<void>;
}> {
  const mails: ReceivedMail[] = [];
  const waiting: ((m: ReceivedMail) => void)[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => {
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        };
        mails.push(mail);
        waiting.shift()?.(mail);
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  let seen = 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    next: () =>
      new Promise((resolve) => {
        if (mails.length > seen) resolve(mails[seen++]!);
        else
          waiting.push((m) => {
            seen++;
            resolve(m);
          });
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The reset link in a received mail (quoted-printable soft breaks undone). */
export function resetLinkIn(mail: ReceivedMail): string | undefined {
  const body = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  return /(https?:\/\/\S+\/reset-password#token=[A-Za-z0-9_-]+)/.exec(body)?.[1];
}
