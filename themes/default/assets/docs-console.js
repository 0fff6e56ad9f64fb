// Try-it console of the documentation page (docs.liquid). Loaded after Swagger UI; no
// inline script anywhere (CSP script-src 'self'): settings come from data-* attributes.
//
// Secrets: the portal stores none, so the page cannot fill one in by itself. A secret
// the developer pastes here, gets by rolling a key here, or was shown on the portal's
// key page in this tab (portal.js), is kept in this tab's sessionStorage under
// `gatehouse.key.<key id>` and handed to Swagger UI's preauthorizeApiKey; it is never
// sent to the portal server.
(function () {
  'use strict';

  var panel = document.getElementById('docs-key-panel');
  var mount = document.getElementById('swagger-ui');
  if (!panel || !mount || typeof window.SwaggerUIBundle !== 'function') return;

  var scheme = panel.getAttribute('data-scheme');
  var select = document.getElementById('docs-key-select');
  var secretInput = document.getElementById('docs-key-secret');
  var useButton = document.getElementById('docs-key-use');
  var rollButton = document.getElementById('docs-key-roll');
  var status = document.getElementById('docs-key-status');
  var ready = false;
  var pending = null;

  function storageKey(id) {
    return 'gatehouse.key.' + id;
  }

  function remembered(id) {
    try {
      return window.sessionStorage.getItem(storageKey(id));
    } catch {
      return null;
    }
  }

  function remember(id, secret) {
    try {
      window.sessionStorage.setItem(storageKey(id), secret);
    } catch {
      /* storage off: the console still works for this page view */
    }
  }

  function say(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.className = 'small mb-0 ' + (kind === 'error' ? 'text-danger' : kind === 'ok' ? 'text-success' : 'text-body-secondary');
  }

  function selected() {
    if (!select) return null;
    var option = select.options[select.selectedIndex];
    if (!option) return null;
    return {
      id: option.value,
      name: option.getAttribute('data-name'),
      prefix: option.getAttribute('data-prefix'),
      last4: option.getAttribute('data-last4'),
      hasSecret: option.getAttribute('data-has-secret') === 'true',
    };
  }

  var ui = window.SwaggerUIBundle({
    url: panel.getAttribute('data-spec-url'),
    domNode: mount,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 1,
    displayRequestDuration: true,
    filter: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    validatorUrl: null,
    // Only the API's own operations are called, and only at the servers the portal wrote in.
    withCredentials: false,
    onComplete: function () {
      ready = true;
      if (pending) authorise(pending.key, pending.secret);
      else choose();
    },
  });

  function authorise(key, secret) {
    if (!ready) {
      pending = { key: key, secret: secret };
      return;
    }
    pending = null;
    ui.preauthorizeApiKey(scheme, secret);
    mount.setAttribute('data-authorised-key', key.id);
    say('The console sends key “' + key.name + '” (' + key.prefix + '…' + key.last4 + ') with every request. Open an operation and choose “Execute”.', 'ok');
  }

  /** The secret this tab holds for a key, if it still matches the key's prefix and last 4 (not rolled elsewhere). */
  function usable(key) {
    var secret = remembered(key.id);
    if (!secret) return null;
    return key.hasSecret && secret.indexOf(key.prefix) === 0 && secret.slice(-4) === key.last4 ? secret : null;
  }

  function choose() {
    var key = selected();
    if (!key) return;
    var secret = usable(key);
    if (secret) {
      authorise(key, secret);
      return;
    }
    if (ready) ui.preauthorizeApiKey(scheme, '');
    mount.removeAttribute('data-authorised-key');
    say(
      key.hasSecret
        ? 'Paste the secret of “' + key.name + '” to use it in the console.'
        : '“' + key.name + '” has not been revealed yet: roll it here to get its secret.',
      'info',
    );
  }

  if (select) {
    select.addEventListener('change', choose);
    // Start with a key whose secret this tab already holds (e.g. one just issued or
    // revealed in the portal), so the console is authorised without pasting.
    for (var i = 0; i < select.options.length; i++) {
      var option = select.options[i];
      var candidate = {
        id: option.value,
        prefix: option.getAttribute('data-prefix'),
        last4: option.getAttribute('data-last4'),
        hasSecret: option.getAttribute('data-has-secret') === 'true',
      };
      if (usable(candidate)) {
        select.selectedIndex = i;
        break;
      }
    }
  }

  if (useButton && secretInput) {
    var use = function () {
      var key = selected();
      var secret = secretInput.value.trim();
      if (!key || !secret) return;
      // The portal knows the prefix and the last four characters: enough to catch a wrong paste.
      if (secret.indexOf(key.prefix) !== 0 || secret.slice(-4) !== key.last4) {
        say('That is not the secret of “' + key.name + '” (it starts with ' + key.prefix + ' and ends with ' + key.last4 + ').', 'error');
        return;
      }
      remember(key.id, secret);
      secretInput.value = '';
      authorise(key, secret);
    };
    useButton.addEventListener('click', use);
    secretInput.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') {
        event.preventDefault();
        use();
      }
    });
  }

  if (rollButton) {
    rollButton.addEventListener('click', function () {
      var key = selected();
      if (!key) return;
      rollButton.disabled = true;
      say('Rolling “' + key.name + '”…', 'info');
      fetch(panel.getAttribute('data-roll-url').replace('{id}', encodeURIComponent(key.id)), {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'x-csrf-token': panel.getAttribute('data-csrf'), accept: 'application/json' },
      })
        .then(function (res) {
          return res.json().then(function (body) {
            if (!res.ok) throw new Error((body && body.error && body.error.message) || 'The key could not be rolled');
            return body;
          });
        })
        .then(function (body) {
          var option = select && select.options[select.selectedIndex];
          if (option) {
            option.setAttribute('data-prefix', body.prefix);
            option.setAttribute('data-last4', body.last4);
            option.setAttribute('data-has-secret', 'true');
            option.textContent = key.name + ' (' + body.prefix + '…' + body.last4 + ')';
          }
          remember(key.id, body.secret);
          var box = document.getElementById('docs-key-new');
          var field = document.getElementById('docs-key-new-secret');
          if (box && field) {
            field.value = body.secret;
            box.hidden = false;
          }
          authorise({ id: key.id, name: key.name, prefix: body.prefix, last4: body.last4 }, body.secret);
        })
        .catch(function (error) {
          say(error.message, 'error');
        })
        .then(function () {
          rollButton.disabled = false;
        });
    });
  }

  choose();
})();
