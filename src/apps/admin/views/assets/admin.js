// Admin dashboard behaviour. Everything works without it; it adds confirmations,
// loading a spec file into the upload textarea and the Markdown preview.
(function () {
  'use strict';
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.querySelectorAll('input[type="file"][data-load-into]').forEach(function (input) {
    input.addEventListener('change', function () {
      var target = document.getElementById(input.getAttribute('data-load-into'));
      var file = input.files && input.files[0];
      if (!target || !file) return;
      file.text().then(function (text) {
        target.value = text;
      });
    });
  });

  document.querySelectorAll('[data-preview-for]').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = document.getElementById(button.getAttribute('data-preview-for'));
      var box = document.getElementById('preview-' + (source.id === 'long_description' ? 'long' : source.id));
      if (!source || !box) return;
      var body = new URLSearchParams();
      body.set('markdown', source.value);
      fetch('/preview/markdown', {
        method: 'POST',
        headers: { 'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
        credentials: 'same-origin',
      })
        .then(function (res) {
          return res.ok ? res.text() : Promise.reject(new Error(String(res.status)));
        })
        .then(function (html) {
          box.innerHTML = html;
          box.classList.remove('d-none');
        }) // server-sanitised HTML
        .catch(function () {
          box.textContent = 'The preview could not be rendered.';
          box.classList.remove('d-none');
        });
    });
  });
})();
