/* helpline caller widget loader (docs/widget.md).
 *
 * Embedding: <script src="https://HOST/widget.js" data-line="adults" async></script>
 * Optional: data-lines="adults,young" (offer a choice), data-lang="sv|da|en".
 *
 * This script runs in the host page, so it does as little as possible: a
 * launcher button in a closed shadow root, and an iframe from the helpline's
 * own origin that holds the whole conversation. The host page can neither
 * style nor read the chat. Styles are set through the CSSOM (never a style
 * attribute or <style>), so a strict host CSP does not block them.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src || window.__helplineWidget) return;
  window.__helplineWidget = true;

  var ORIGIN = new URL(script.src, location.href).origin;
  var data = script.dataset || {};
  var line = (data.line || '').trim();
  var lines = (data.lines || line).trim();
  var langs = ['sv', 'da', 'en'];
  var TOP = '2147483647';
  // Shift pressed three times within this window leaves the page (GOV.UK's
  // "Exit this page" pattern).
  var SHIFT_WINDOW_MS = 1000;
  // How long a host-side exit waits for the panel to wipe its storage.
  var WIPE_WAIT_MS = 250;

  function pickLang() {
    if (langs.indexOf(data.lang) >= 0) return data.lang;
    var wanted = navigator.languages || [navigator.language || ''];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i]).toLowerCase().slice(0, 2);
      if (code === 'nb' || code === 'nn' || code === 'no') code = 'da';
      if (langs.indexOf(code) >= 0) return code;
    }
    return 'en';
  }
  var lang = pickLang();
  var LABEL = { sv: 'Chatta anonymt', da: 'Chat anonymt', en: 'Chat anonymously' };

  function css(el, props) {
    for (var k in props) el.style.setProperty(k, props[k], 'important');
  }

  var host = document.createElement('helpline-widget');
  var root = host.attachShadow({ mode: 'closed' });
  css(host, {
    all: 'initial', position: 'fixed', right: '16px', bottom: '16px', left: 'auto',
    top: 'auto', 'z-index': TOP, display: 'block', margin: '0', padding: '0',
    border: '0', background: 'transparent', overflow: 'visible', width: 'auto',
    height: 'auto', 'max-width': 'none', 'max-height': 'none', inset: 'auto 16px 16px auto',
    opacity: '1', visibility: 'visible', transform: 'none', filter: 'none',
    'pointer-events': 'auto', 'clip-path': 'none'
  });

  var button = document.createElement('button');
  button.type = 'button';
  button.textContent = LABEL[lang];
  button.setAttribute('aria-haspopup', 'dialog');
  button.setAttribute('aria-expanded', 'false');
  css(button, {
    all: 'initial', display: 'block', cursor: 'pointer', 'box-sizing': 'border-box',
    font: '600 16px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    color: '#ffffff', background: '#1d4f91', border: '2px solid #ffffff',
    'border-radius': '24px', padding: '12px 20px', 'min-height': '48px',
    'box-shadow': '0 2px 8px rgba(0,0,0,.35)', visibility: 'visible', opacity: '1'
  });
  button.addEventListener('focus', function () {
    css(button, { outline: '3px solid #ffbf47', 'outline-offset': '2px' });
  });
  button.addEventListener('blur', function () { button.style.removeProperty('outline'); });

  var frame = document.createElement('iframe');
  var params = new URLSearchParams({ line: line, lines: lines, lang: lang, host: location.origin });
  frame.src = ORIGIN + '/widget/panel.html?' + params.toString();
  frame.title = { sv: 'Chatt', da: 'Chat', en: 'Chat' }[lang];
  frame.setAttribute('referrerpolicy', 'no-referrer');
  css(frame, {
    all: 'initial', display: 'none', border: '0', 'box-sizing': 'border-box',
    background: '#ffffff', 'border-radius': '12px',
    'box-shadow': '0 4px 24px rgba(0,0,0,.4)', visibility: 'visible', opacity: '1'
  });

  root.appendChild(button);
  root.appendChild(frame);

  var open = false;
  var everOpened = false;
  var exitUrl = null;

  function layout() {
    if (!open) {
      css(host, { inset: 'auto 16px 16px auto', width: 'auto', height: 'auto' });
      return;
    }
    var small = window.innerWidth < 480 || window.innerHeight < 560;
    if (small) {
      css(host, { inset: '0', width: '100%', height: '100%' });
      css(frame, { width: '100%', height: '100%', 'border-radius': '0' });
    } else {
      css(host, { inset: 'auto 16px 16px auto', width: 'auto', height: 'auto' });
      css(frame, {
        width: Math.min(400, window.innerWidth - 32) + 'px',
        height: Math.min(640, window.innerHeight - 32) + 'px', 'border-radius': '12px'
      });
    }
  }

  function toPanel(msg) {
    if (frame.contentWindow) frame.contentWindow.postMessage(msg, ORIGIN);
  }

  function setOpen(value, focus) {
    open = value;
    everOpened = everOpened || value;
    css(frame, { display: value ? 'block' : 'none' });
    css(button, { display: value ? 'none' : 'block' });
    button.setAttribute('aria-expanded', String(value));
    layout();
    if (value) {
      toPanel({ type: 'hl:open' });
      if (focus) frame.focus();
    } else if (focus) {
      button.focus();
    }
  }

  function safeUrl(url) {
    if (!url || typeof url !== 'string') return null;
    try {
      var parsed = new URL(url, location.href);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  var leaving = false;
  function leave(url) {
    if (leaving) return;
    leaving = true;
    var target = safeUrl(url) || safeUrl(exitUrl) || 'https://www.google.com/';
    // Hide at once; then replace the page, so Back does not return to it.
    css(host, { display: 'none' });
    location.replace(target);
  }

  function hostExit() {
    // The panel wipes its own storage (it is another origin); give it a moment.
    css(host, { display: 'none' });
    toPanel({ type: 'hl:wipe' });
    setTimeout(function () { leave(null); }, WIPE_WAIT_MS);
  }

  button.addEventListener('click', function () { setOpen(true, true); });

  window.addEventListener('message', function (event) {
    if (event.origin !== ORIGIN || event.source !== frame.contentWindow) return;
    var msg = event.data || {};
    if (msg.type === 'hl:ready') {
      exitUrl = safeUrl(msg.exitUrl);
      if (msg.open && !open) setOpen(true, false);
    } else if (msg.type === 'hl:exit-url') {
      exitUrl = safeUrl(msg.exitUrl) || exitUrl;
    } else if (msg.type === 'hl:close') {
      setOpen(false, true);
    } else if (msg.type === 'hl:exit') {
      leave(msg.url);
    } else if (msg.type === 'hl:wiped' && leaving === false && hostExitPending) {
      leave(null);
    }
  });

  var hostExitPending = false;
  var shifts = [];
  window.addEventListener('keydown', function (event) {
    if (event.key !== 'Shift' || event.repeat) return;
    // Only once the caller has used the chat on this page: an ordinary visitor
    // typing capitals must not be thrown off the host's site.
    if (!everOpened) return;
    var now = Date.now();
    shifts = shifts.filter(function (t) { return now - t < SHIFT_WINDOW_MS; });
    shifts.push(now);
    if (shifts.length >= 3) {
      shifts = [];
      hostExitPending = true;
      hostExit();
    }
  }, true);

  window.addEventListener('resize', layout);

  function mount() {
    (document.body || document.documentElement).appendChild(host);
    // The top layer sits above any z-index a host page can use (its banners);
    // where popovers are unsupported the maximal z-index is the fallback.
    if (typeof host.showPopover === 'function') {
      try {
        host.setAttribute('popover', 'manual');
        host.showPopover();
      } catch (e) { /* keep the z-index fallback */ }
    }
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
