import type { Logger } from 'pino';
import type { CatalogueService } from '../../modules/catalogue/index.js';
import type { SettingsService } from '../../modules/content/index.js';
import type { DevelopersService } from '../../modules/developers/index.js';
import type { DomainEventListener } from '../../modules/events.js';
import type { KeyRequestResponse } from '../../modules/key-requests/index.js';
import type { Mailer } from '../../platform/mail/index.js';

export interface KeyRequestMailDeps {
  mailer: Mailer;
  developers: Pick<DevelopersService, 'get'>;
  catalogue: Pick<CatalogueService, 'get'>;
  settings: Pick<SettingsService, 'get'>;
  publicPortalUrl: () => string;
  logger: Logger;
}

/**
 * Emails the developer when an admin approves or rejects their key request (issue 4
 * §4); subscribe it to the domain events. The approval email points to My keys, where
 * the developer reveals the key: a secret is never emailed.
 */
export function keyRequestMailListener(deps: KeyRequestMailDeps): DomainEventListener {
  return async (event) => {
    if (event.type !== 'key_request.approved' && event.type !== 'key_request.rejected') return;
    const request = event.data as unknown as KeyRequestResponse;
    if (request.decided_by === 'auto') return;
    try {
      const [developer, entry, settings] = await Promise.all([
        deps.developers.get(request.developer_id),
        deps.catalogue.get(request.catalogue_id),
        deps.settings.get(),
      ]);
      const portal = deps.publicPortalUrl().replace(/\/+$/, '');
      await deps.mailer.send({
        to: developer.email,
        template: event.type === 'key_request.approved' ? 'key-request-approved' : 'key-request-rejected',
        data: {
          site_name: settings.site_name,
          portal_url: portal,
          entry_name: entry.name,
          key_name: request.key_name,
          reason: request.reason ?? '',
          keys_url: `${portal}/keys`,
          catalogue_url: `${portal}/catalogue`,
        },
      });
    } catch (error) {
      // A mail problem never undoes the decision; it is logged without the message.
      deps.logger.error({ err: error, key_request_id: request.id }, 'key request email could not be sent');
    }
  };
}
