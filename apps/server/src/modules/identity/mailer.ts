import type { Logger } from '@fusionflow/kit';
import { createTransport, type Transporter } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Sends account email (password resets) through the operator's SMTP server (SMTP_URL). */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer: `smtp://` upgrades with STARTTLS when the server offers it, `smtps://` is TLS. */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
    private readonly logger: Logger,
  ) {
    this.#transport = createTransport(url, { from });
  }

  async send(mail: Mail): Promise<void> {
    const info = await this.#transport.sendMail({
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
    });
    this.logger.info({ messageId: info.messageId }, 'email sent');
  }

  close(): void {
    this.#transport.close();
  }
}
