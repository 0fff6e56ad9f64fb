import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { createMailer, MailSecretError } from './mailer.js';

describe('mailer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mail-'));
  const base = join(dir, 'default');
  const theme = join(dir, 'custom');
  mkdirSync(join(base, 'emails'), { recursive: true });
  mkdirSync(join(theme, 'emails'), { recursive: true });
  writeFileSync(
    join(base, 'emails', 'hello.liquid'),
    'Subject: Hello {{ name }}\n\nHi {{ name }} & friends, see {{ url }}\n',
  );
  writeFileSync(join(base, 'emails', 'leak.liquid'), 'Subject: Your key\n\n{{ secret }}\n');
  writeFileSync(join(theme, 'emails', 'hello.liquid'), 'Subject: Themed {{ name }}\n\nThemed body\n');
  writeFileSync(join(theme, 'emails', 'hello.html.liquid'), '<p>{{ name }}</p>');
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('renders subject and plain text without HTML escaping, and logs when there is no SMTP', async () => {
    const mailer = createMailer({ from: 'Portal <p@example.com>', logger, themeRoots: () => [base] });
    assert.equal(mailer.transport, 'log');
    const mail = await mailer.send({
      to: 'a@example.com',
      template: 'hello',
      data: { name: 'Ada', url: 'http://x/?a=1&b=2' },
    });
    assert.equal(mail.subject, 'Hello Ada');
    assert.equal(mail.text, 'Hi Ada & friends, see http://x/?a=1&b=2\n');
    assert.equal(mail.html, undefined);
    assert.ok(lines.some((l) => l.includes('"subject":"Hello Ada"')));
  });

  test('a theme overrides a template and may add an escaped HTML part', async () => {
    const mailer = createMailer({ from: 'p@example.com', logger, themeRoots: () => [theme, base] });
    const mail = await mailer.render({ to: 'a@example.com', template: 'hello', data: { name: '<b>Ada</b>' } });
    assert.equal(mail.subject, 'Themed <b>Ada</b>');
    assert.equal(mail.html, '<p>&lt;b&gt;Ada&lt;/b&gt;</p>');
  });

  test('refuses to send anything that contains an API key secret', async () => {
    const mailer = createMailer({ from: 'p@example.com', logger, themeRoots: () => [base] });
    await assert.rejects(
      mailer.send({ to: 'a@example.com', template: 'leak', data: { secret: `gh_${'a1B2'.repeat(10)}` } }),
      MailSecretError,
    );
    assert.ok(!lines.some((l) => l.includes('a1B2a1B2')));
  });
});
