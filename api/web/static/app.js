// Small progressive enhancements shared by every page (no inline scripts: the CSP forbids them).
document.addEventListener('DOMContentLoaded', function () {
  // htmx sends the CSRF token it reads from <body hx-headers>; nothing else to set up here.
  document.body.classList.add('js');
});
