// The demo host page's own script (no inline scripts: our CSP forbids them).
document.getElementById('cookie-ok').addEventListener('click', function () {
  document.querySelector('.cookie-banner').hidden = true;
});
