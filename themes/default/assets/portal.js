// Default portal theme behaviour. No inline scripts anywhere (the portal sends a
// Content-Security-Policy with script-src 'self'); pages pass data through data-*.
(function () {
  'use strict';

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      try {
        if (document.execCommand('copy')) resolve();
        else reject(new Error('copy failed'));
      } catch (e) {
        reject(e);
      } finally {
        document.body.removeChild(area);
      }
    });
  }

  // <button data-copy-target="#id"> copies the text of #id (or its value).
  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-copy-target]');
    if (!button) return;
    var target = document.querySelector(button.getAttribute('data-copy-target'));
    if (!target) return;
    var text = 'value' in target && target.value !== undefined ? target.value : target.textContent;
    var label = button.textContent;
    copyText(text.trim()).then(
      function () {
        button.textContent = 'Copied';
        button.setAttribute('data-copied', 'true');
        setTimeout(function () { button.textContent = label; }, 2000);
      },
      function () { button.textContent = 'Select and copy manually'; }
    );
  });

  // <input data-remember-key="<key id>" value="<secret>"> (the one-time key page): keep the
  // secret in this tab's sessionStorage so the documentation's try-it console
  // (docs-console.js) is authorised with it without pasting. It never leaves the tab.
  var fresh = document.querySelectorAll('[data-remember-key]');
  for (var i = 0; i < fresh.length; i++) {
    try {
      window.sessionStorage.setItem('gatehouse.key.' + fresh[i].getAttribute('data-remember-key'), fresh[i].value);
    } catch {
      /* storage off: the developer pastes the key in the console instead */
    }
  }

  // <form data-confirm="Really?"> asks before submitting.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
