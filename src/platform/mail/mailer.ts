import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Liquid } from 'liquidjs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

/**
 * Outgoing email (DESIGN §2: SMTP from `GATEHOUSE_SMTP_URL`, else the log). Every
 * message is rendered from a Liquid template in a theme's `emails/` folder, so a theme
 * can override any of them:
 *
 *   emails/<template>.liquid       plain-text body; its first line is `Subject: …`
 *   emails/<template>.html.liquid  optional HTML alternative (auto-escaped)
 *
 * A message that looks like it contains an API key secret (`gh_` + 32 base62
 * characters) is refused: keys are revealed only in the portal, never by email.
 */
export interface MailMessage {
  to: string;
  /** Template name without extension, e.g. `welcome`, `password-reset`. */
  template: string;
  /** The template's view-model (plain data, never database rows). */
  data: Record<string, unknown>;
}

export interface RenderedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  /** Renders and sends one message; rejects when rendering or delivery fails. */
  send(message: MailMessage): Promise<RenderedMail>;
  /** Renders without sending (previews, tests). */
  render(message: MailMessage): Promise<RenderedMail>;
  /** `smtp` or `log`, for health output. */
  readonly transport: 'smtp' | 'log';
  close(): void;
}

export interface MailerOptions {
  /** `smtp://user:pass@host:port` or `smtps://…`; unset = write messages to the log. */
  smtpUrl?: string;
  /** From header, e.g. `Gatehouse <no-reply@example.com>`. */
  from: string;
  logger: Logger;
  /**
   * Theme folders to look for `emails/<template>` in, first match wins (active theme,
   * then `themes/default`). A function, so a theme switched in settings applies at once.
   */
  themeRoots: () => string[] | Promise<string[]>;
}

const KEY_SECRET = /\bgh_[0-9A-Za-z]{32,}\b/;

export class MailSecretError extends Error {
  constructor(template: string) {
    super(`email template "${template}" rendered an API key secret; refusing to send it`);
    this.name = 'MailSecretError';
  }
}

function engine(roots: string[], escape: boolean): Liquid {
  return new Liquid({
    root: roots,
    extname: '.liquid',
    outputEscape: escape ? 'escape' : undefined,
    cache: true,
    strictFilters: true,
    renderLimit: 1_000,
    parseLimit: 200_000,
    memoryLimit: 16 * 1024 * 1024,
  });
}

/** `Subject: …` on the first line, then a blank line, then the body. */
function splitSubject(rendered: string, template: string): { subject: string; text: string } {
  const text = rendered.replace(/^\s+/, '');
  const match = /^Subject:[ \t]*(.*)\r?\n/i.exec(text);
  if (!match) return { subject: template, text: text.trim() + '\n' };
  return {
    subject: (match[1] ?? '').trim(),
    text:
      text
        .slice(match[0].length)
        .replace(/^\s*\n/, '')
        .trimEnd() + '\n',
  };
}

/** Builds the mailer chosen by config: SMTP through nodemailer, or the log. */
export function createMailer(options: MailerOptions): Mailer {
  const { logger } = options;
  const transporter: Transporter | null = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : null;
  const engines = new Map<string, { text: Liquid; html: Liquid; roots: string[] }>();

  async function enginesFor(): Promise<{ text: Liquid; html: Liquid; roots: string[] }> {
    const roots = (await options.themeRoots()).map((r) => join(r, 'emails'));
    const cacheKey = roots.join('\0');
    let found = engines.get(cacheKey);
    if (!found) {
      found = { text: engine(roots, false), html: engine(roots, true), roots };
      engines.set(cacheKey, found);
    }
    return found;
  }

  async function render(message: MailMessage): Promise<RenderedMail> {
    const { text: textEngine, html: htmlEngine, roots } = await enginesFor();
    const rendered = (await textEngine.renderFile(message.template, message.data)) as string;
    const { subject, text } = splitSubject(rendered, message.template);
    const hasHtml = roots.some((r) => existsSync(join(r, `${message.template}.html.liquid`)));
    const html = hasHtml
      ? ((await htmlEngine.renderFile(`${message.template}.html.liquid`, { ...message.data, subject })) as string)
      : undefined;
    if (KEY_SECRET.test(subject) || KEY_SECRET.test(text) || (html !== undefined && KEY_SECRET.test(html))) {
      throw new MailSecretError(message.template);
    }
    return {
      to: message.to,
      from: options.from,
      subject: subject.replace(/[\r\n]+/g, ' '),
      text,
      ...(html !== undefined ? { html } : {}),
    };
  }

  return {
    transport: transporter ? 'smtp' : 'log',
    render,
    async send(message) {
      const mail = await render(message);
      if (transporter) {
        const info = (await transporter.sendMail(mail)) as { messageId?: string };
        logger.info(
          { mail: { to: mail.to, subject: mail.subject, template: message.template, message_id: info.messageId } },
          'email sent',
        );
      } else {
        // No SMTP configured: the message goes to the log so a single-node install
        // still works (DESIGN §2). It never carries a key secret (checked above).
        logger.info(
          {
            mail: { to: mail.to, from: mail.from, subject: mail.subject, template: message.template, text: mail.text },
          },
          'email (no SMTP configured; written to the log)',
        );
      }
      return mail;
    },
    close() {
      transporter?.close();
    },
  };
}
