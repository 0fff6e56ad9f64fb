export {
  createMailer,
  MailSecretError,
  type Mailer,
  type MailMessage,
  type MailerOptions,
  type RenderedMail,
} from './mailer.js';
