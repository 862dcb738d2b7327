/* The caller panel: runs in an iframe on the helpline's own origin (docs/widget.md).
 *
 * Speaks protocol v1 (docs/protocol.md) over /ws/caller. What survives a reload
 * lives in sessionStorage of this origin only (the token, never in a URL), and
 * is wiped when the chat ends or the caller leaves quickly.
 */
(function () {
  'use strict';

  var I18N = window.HL_I18N;
  var LANGS = ['sv', 'da', 'en'];
  var STORE_KEY = 'helpline.v1';
  // HELPLINE_RETENTION_DAYS: the default until /api/lines says what the server keeps.
  var retentionDays = 90;
  var MAX_TEXT = 4096;
  // Reconnect: exponential backoff with jitter, from half a second to half a minute.
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  // After this many failed attempts in a row the panel says the chat cannot be reached.
  var UNREACHABLE_AFTER = 3;
  // Keep-alive: a ping every 20 s; a socket silent for 45 s is presumed dead.
  var PING_MS = 20000;
  var SILENT_MS = 45000;
  // An unacknowledged message is sent again (same id: the server dedupes).
  var RESEND_MS = 8000;
  // Typing hints: at most one "on" per 3 s; "off" after 4 s without a key.
  var TYPING_EVERY_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var SHIFT_WINDOW_MS = 1000;

  var $ = function (id) { return document.getElementById(id); };
  var query = new URLSearchParams(location.search);

  // -- where we are embedded ------------------------------------------------
  function originOf(value) {
    try {
      var url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
    } catch (e) {
      return null;
    }
  }
  var hostOrigin = originOf(query.get('host') || '');
  var framed = window.parent !== window;
  function toHost(msg) {
    // Sent only to the origin the loader named; a page lying about it gets nothing.
    if (framed && hostOrigin) window.parent.postMessage(msg, hostOrigin);
  }

  // -- storage: sessionStorage of this origin, or memory when it is blocked ---
  var memory = {};
  function loadState() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null') || {};
    } catch (e) {
      return memory.state || {};
    }
  }
  var S = loadState();
  function save() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(S));
    } catch (e) {
      memory.state = S;
    }
  }
  function wipeStorage() {
    try {
      sessionStorage.clear();
    } catch (e) { /* nothing stored */ }
    memory = {};
  }

  // -- language ---------------------------------------------------------------
  function pickLang() {
    var asked = query.get('lang');
    if (LANGS.indexOf(asked) >= 0) return asked;
    var wanted = navigator.languages || [navigator.language || ''];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i]).toLowerCase().slice(0, 2);
      if (code === 'nb' || code === 'nn' || code === 'no') code = 'da';
      if (LANGS.indexOf(code) >= 0) return code;
    }
    return 'en';
  }
  var lang = LANGS.indexOf(S.lang) >= 0 ? S.lang : pickLang();

  function t(key, vars) {
    var text = (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
    for (var name in vars || {}) text = text.split('{' + name + '}').join(String(vars[name]));
    return text;
  }
  function pick(map) {
    if (!map) return '';
    return map[lang] || map.en || map[Object.keys(map)[0]] || '';
  }

  function renderPrivacy() {
    $('privacy').textContent = t('privacy', { days: retentionDays });
  }

  function translate() {
    document.documentElement.lang = lang;
    document.title = t('title');
    document.querySelectorAll('[data-t]').forEach(function (el) {
      el.textContent = t(el.getAttribute('data-t'));
    });
    document.querySelectorAll('[data-t-label]').forEach(function (el) {
      el.setAttribute('aria-label', t(el.getAttribute('data-t-label')));
    });
    renderPrivacy();
    document.querySelectorAll('input[name=lang]').forEach(function (input) {
      input.checked = input.value === lang;
    });
    renderLines();
    renderQueue();
    renderEmergency();
    renderConn();
    document.querySelectorAll('.msg').forEach(renderMessageMeta);
  }

  // -- lines --------------------------------------------------------------------
  var wantedLines = (query.get('lines') || query.get('line') || '')
    .split(',').map(function (s) { return s.trim(); }).filter(Boolean);
  var lineInfo = {};
  var lineId = S.line || query.get('line') || wantedLines[0] || '';

  function renderLines() {
    var box = $('line-options');
    var offered = wantedLines.filter(function (id) { return lineInfo[id]; });
    $('line-choice').hidden = offered.length < 2;
    box.textContent = '';
    offered.forEach(function (id) {
      var label = document.createElement('label');
      var input = document.createElement('input');
      input.type = 'radio';
      input.name = 'line';
      input.value = id;
      input.checked = id === lineId;
      input.addEventListener('change', function () { selectLine(id); });
      var name = document.createElement('span');
      name.textContent = pick(lineInfo[id].name);
      var audience = document.createElement('span');
      audience.className = 'audience';
      audience.textContent = pick(lineInfo[id].audience);
      label.appendChild(input);
      label.appendChild(document.createTextNode(' '));
      label.appendChild(name);
      label.appendChild(audience);
      box.appendChild(label);
    });
    var info = lineInfo[lineId];
    var closed = !!info && info.open_now === false;
    $('closed-note').hidden = !closed;
    // When the line is closed, leaving a question becomes the main action.
    $('start').className = closed ? 'secondary' : 'primary';
    $('to-case').className = closed ? 'primary' : 'secondary';
  }

  function exitUrl() {
    var info = lineInfo[lineId];
    return (info && info.exit_url) || S.exitUrl || 'https://www.google.com/';
  }

  function selectLine(id) {
    lineId = id;
    S.line = id;
    if (lineInfo[id] && lineInfo[id].exit_url) S.exitUrl = lineInfo[id].exit_url;
    renderLines();
    toHost({ type: 'hl:exit-url', exitUrl: exitUrl() });
  }

  function takeLine(line) {
    if (!line || !line.id) return;
    lineInfo[line.id] = line;
    if (typeof line.retention_days === 'number' && line.retention_days !== retentionDays) {
      retentionDays = line.retention_days;
      renderPrivacy();
    }
    if (line.id === lineId) {
      S.exitUrl = line.exit_url || S.exitUrl;
      emergency.info = line.emergency || emergency.info;
      toHost({ type: 'hl:exit-url', exitUrl: exitUrl() });
    }
  }

  function loadLines() {
    return fetch('/api/lines', { credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : { lines: [] }; })
      .then(function (body) {
        (body.lines || []).forEach(function (line) {
          if (wantedLines.indexOf(line.id) >= 0 || line.id === lineId) takeLine(line);
        });
        if (!lineInfo[lineId]) {
          var first = wantedLines.filter(function (id) { return lineInfo[id]; })[0];
          if (first) lineId = first;
        }
        if (lineInfo[lineId]) selectLine(lineId);
        renderLines();
      })
      .catch(function () { /* the chat still starts on the named line */ });
  }

  // -- views and focus ---------------------------------------------------------------
  var VIEWS = ['v-welcome', 'v-chat', 'v-ended', 'v-case', 'v-code', 'v-lookup'];
  var FOCUS = {
    'v-welcome': function () { return document.querySelector('input[name=lang]:checked'); },
    'v-chat': function () { return $('text'); },
    'v-ended': function () { return $('ended-title'); },
    'v-case': function () { return $('case-text'); },
    'v-code': function () { return $('code-title'); },
    'v-lookup': function () { return $('lookup-code'); }
  };
  var view = 'v-welcome';
  function show(name, focus) {
    view = name;
    VIEWS.forEach(function (id) { $(id).hidden = id !== name; });
    if (focus !== false) focusView();
  }
  function focusView() {
    var el = FOCUS[view] && FOCUS[view]();
    if (el) el.focus();
  }

  // -- connection status -------------------------------------------------------------------
  var conn = 'idle';
  function setConn(state) {
    conn = state;
    renderConn();
  }
  function renderConn() {
    var el = $('conn');
    var text = { connecting: t('connecting'), offline: t('offline'), unreachable: t('unreachable') }[conn];
    el.textContent = text || '';
    el.className = 'conn' + (text ? ' conn-' + conn : '');
  }

  // -- emergency -----------------------------------------------------------------------------
  var emergency = { on: false, info: null };
  function showEmergency(info) {
    if (info && (info.numbers || info.text)) emergency.info = info;
    emergency.on = true;
    renderEmergency();
  }
  function renderEmergency() {
    var box = $('emergency');
    box.hidden = !emergency.on;
    if (!emergency.on) return;
    var info = emergency.info || {};
    $('em-text').textContent = pick(info.text) || t('unreachable');
    var list = $('em-numbers');
    list.textContent = '';
    (info.numbers || []).forEach(function (n) {
      var item = document.createElement('li');
      var link = document.createElement('a');
      link.href = 'tel:' + String(n.number).replace(/[^0-9+]/g, '');
      var label = pick(n.label);
      link.textContent = (label ? label + ': ' : '') + n.number;
      item.appendChild(link);
      list.appendChild(item);
    });
  }

  // -- the conversation ------------------------------------------------------------------------
  var ws = null;
  var live = false; // started or resumed on the current socket
  var attempt = 0;
  var reconnectTimer = null;
  var lastFrameAt = 0;
  var seen = {}; // seq -> true: every message is shown once
  var mine = {}; // client id -> {li, seq}
  var counsellorHere = false;
  var queueInfo = null;
  var ratingToken = null;
  var finished = false;
  // The highest seq shown. In memory only: after a reload the transcript is
  // empty, so the panel resumes from 0 and the server replays it all.
  var lastSeq = 0;

  function randomId(bytes) {
    var raw = new Uint8Array(bytes);
    crypto.getRandomValues(raw);
    var text = '';
    raw.forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function wsUrl() {
    return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws/caller';
  }

  function sendFrame(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (ws || finished || !S.token) return;
    if (conn !== 'unreachable') setConn(attempt ? 'offline' : 'connecting');
    var sock;
    try {
      sock = new WebSocket(wsUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = function () {
      lastFrameAt = Date.now();
      if (S.started) sendFrame({ v: 1, type: 'resume', token: S.token, last_seq: lastSeq });
      // A start repeated with the same token returns the same conversation.
      else sendFrame({ v: 1, type: 'start', line: S.line, lang: S.lang, token: S.token });
    };
    sock.onmessage = function (event) {
      lastFrameAt = Date.now();
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      onFrame(frame);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null;
      live = false;
      if (!finished) scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (finished || reconnectTimer) return;
    attempt += 1;
    var cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, attempt - 1));
    var delay = cap / 2 + Math.random() * cap / 2;
    setConn(attempt >= UNREACHABLE_AFTER ? 'unreachable' : 'offline');
    reconnectTimer = setTimeout(connect, delay);
  }

  function dropSocket() {
    if (ws) {
      var sock = ws;
      ws = null;
      live = false;
      try { sock.close(); } catch (e) { /* already closed */ }
    }
  }

  window.addEventListener('online', function () {
    if (!ws && S.token && !finished) {
      attempt = 0;
      connect();
    }
  });
  window.addEventListener('offline', function () {
    if (ws) {
      dropSocket();
      scheduleReconnect();
    }
  });
  setInterval(function () {
    if (!ws || !live) return;
    if (Date.now() - lastFrameAt > SILENT_MS) {
      dropSocket();
      scheduleReconnect();
    } else {
      sendFrame({ type: 'ping' });
    }
  }, PING_MS);
  // An unacknowledged message is sent again, with the same id.
  setInterval(function () { if (live) flushPending(RESEND_MS); }, 2000);

  function onFrame(f) {
    switch (f.type) {
      case 'started':
      case 'resumed':
        live = true;
        attempt = 0;
        setConn('online');
        S.started = true;
        S.conversation = f.conversation;
        save();
        takeLine(f.line);
        if (f.type === 'resumed' && f.risk_alert) showEmergency(f.line && f.line.emergency);
        if (f.state === 'active') setCounsellorHere();
        renderQueue();
        flushPending(0);
        break;
      case 'queue':
        queueInfo = f;
        renderQueue();
        break;
      case 'joined':
        addNote(t('joined'));
        setCounsellorHere();
        break;
      case 'message':
        onMessage(f);
        break;
      case 'ack':
        onAck(f);
        break;
      case 'typing':
        if (f.from !== 'caller') showTyping(!!f.on);
        break;
      case 'emergency':
        showEmergency(f.numbers || f.text ? { numbers: f.numbers, text: f.text } : null);
        break;
      case 'ended':
        finish(f.reason === 'counsellor' ? 'endedCounsellor'
          : f.reason === 'caller' ? 'endedCaller' : 'endedGone');
        break;
      case 'error':
        onError(f);
        break;
      default:
        break;
    }
  }

  function onError(f) {
    var code = f.code;
    if (code === 'store_unavailable' || code === 'rate_limited') {
      // Not stored: the resend timer sends it again with the same id.
      if (f.ref && mine[f.ref]) mine[f.ref].sentAt = Date.now();
    } else if (code === 'too_large' && f.ref && mine[f.ref]) {
      forgetPending(f.ref);
      var entry = mine[f.ref];
      entry.failed = true;
      renderMessageMeta(entry.li);
    } else if (code === 'conversation_closed' || code === 'unknown_token') {
      finish('endedGone');
    } else if (code === 'unknown_line' || code === 'unsupported_language') {
      stopBeforeStart();
    } else if (code === 'not_started' && ws) {
      dropSocket();
      scheduleReconnect();
    }
  }

  function stopBeforeStart() {
    finished = true;
    dropSocket();
    wipeStorage();
    S = { lang: lang, line: lineId };
    show('v-welcome');
    var err = $('welcome-error');
    err.textContent = t('error');
    err.hidden = false;
    finished = false;
    setConn('idle');
  }

  function setCounsellorHere() {
    counsellorHere = true;
    queueInfo = null;
    renderQueue();
    Object.keys(mine).forEach(function (id) { renderMessageMeta(mine[id].li); });
  }

  function renderQueue() {
    var el = $('queue');
    if (!el) return;
    var caseButton = $('queue-case');
    caseButton.hidden = !(queueInfo && queueInfo.counsellors_on_shift === false) || counsellorHere;
    if (counsellorHere || !S.token || finished) {
      el.textContent = '';
      el.hidden = true;
      return;
    }
    el.hidden = false;
    var parts = [];
    var q = queueInfo;
    if (!q) {
      parts.push(t('queued'));
    } else {
      parts.push(t('queuePos', { n: q.position }));
      if (q.counsellors_on_shift === false) parts.push(t('noneOnShift'));
      else if (q.expected_wait_s === null || q.expected_wait_s === undefined) parts.push(t('waitUnknown'));
      else if (q.expected_wait_s < 60) parts.push(t('waitShort'));
      else parts.push(t('waitAbout', { m: Math.round(q.expected_wait_s / 60) }));
    }
    el.textContent = parts.join(' ');
  }

  // -- messages ----------------------------------------------------------------------------
  function timeText(at) {
    var when = at ? new Date(at) : new Date();
    var tag = { sv: 'sv-SE', da: 'da-DK', en: 'en-GB' }[lang];
    return when.toLocaleTimeString(tag, { hour: '2-digit', minute: '2-digit' });
  }

  function addBubble(from, text, at) {
    var li = document.createElement('div');
    li.className = 'msg ' + (from === 'caller' ? 'from-caller' : 'from-staff');
    li.dataset.from = from;
    var who = document.createElement('span');
    who.className = 'who';
    var body = document.createElement('p');
    body.className = 'text';
    body.textContent = text;
    var meta = document.createElement('span');
    meta.className = 'meta';
    li.dataset.time = timeText(at);
    li.appendChild(who);
    li.appendChild(body);
    li.appendChild(meta);
    var log = $('log');
    var nearBottom = document.scrollingElement.scrollHeight - window.innerHeight
      - document.scrollingElement.scrollTop < 120;
    log.appendChild(li);
    renderMessageMeta(li);
    if (nearBottom || from === 'caller') $('compose').scrollIntoView({ block: 'end' });
    return li;
  }

  function renderMessageMeta(li) {
    var from = li.dataset.from;
    if (!from) return;
    li.querySelector('.who').textContent = from === 'caller' ? t('you') : t('role');
    var meta = li.querySelector('.meta');
    var status = '';
    if (from === 'caller') {
      var entry = li.dataset.id ? mine[li.dataset.id] : null;
      if (entry && entry.failed) status = t('tooLong');
      else if (!li.dataset.seq) status = t('pending');
      else status = counsellorHere ? t('delivered') : t('sent');
      li.classList.toggle('pending', !li.dataset.seq);
    }
    meta.textContent = li.dataset.time + (status ? ' · ' + status : '');
  }

  function addNote(text) {
    var li = document.createElement('div');
    li.className = 'note-msg';
    li.textContent = text;
    $('log').appendChild(li);
  }

  function onMessage(f) {
    if (typeof f.seq !== 'number' || seen[f.seq]) return;
    seen[f.seq] = true;
    if (f.seq > lastSeq) lastSeq = f.seq;
    if (f.from === 'caller') {
      var entry = f.id ? mine[f.id] : null;
      if (entry) {
        confirmMine(f.id, f.seq);
        return;
      }
      var li = addBubble('caller', f.text, f.at);
      li.dataset.seq = String(f.seq);
      renderMessageMeta(li);
      return;
    }
    showTyping(false);
    addBubble(f.from, f.text, f.at);
  }

  function onAck(f) {
    if (!f.id || !mine[f.id]) return;
    // The seq is not taken as "seen": messages before it may still be on their way.
    confirmMine(f.id, f.seq);
  }

  function confirmMine(id, seq) {
    var entry = mine[id];
    entry.li.dataset.seq = String(seq);
    forgetPending(id);
    renderMessageMeta(entry.li);
  }

  function forgetPending(id) {
    S.pending = (S.pending || []).filter(function (p) { return p.id !== id; });
    save();
  }

  function flushPending(olderThanMs) {
    var now = Date.now();
    (S.pending || []).forEach(function (p) {
      var entry = mine[p.id];
      if (entry && entry.sentAt && now - entry.sentAt < olderThanMs) return;
      if (sendFrame({ type: 'send', id: p.id, text: p.text }) && entry) entry.sentAt = now;
    });
  }

  function restorePending() {
    (S.pending || []).forEach(function (p) {
      var li = addBubble('caller', p.text, null);
      li.dataset.id = p.id;
      mine[p.id] = { li: li, sentAt: 0 };
      renderMessageMeta(li);
    });
  }

  function sendText(text) {
    S.n = (S.n || 0) + 1;
    var id = 'c-' + randomId(6) + '-' + S.n;
    S.pending = (S.pending || []).concat([{ id: id, text: text }]);
    save();
    var li = addBubble('caller', text, null);
    li.dataset.id = id;
    mine[id] = { li: li, sentAt: 0 };
    renderMessageMeta(li);
    if (live && sendFrame({ type: 'send', id: id, text: text })) mine[id].sentAt = Date.now();
  }

  // -- typing, both ways -------------------------------------------------------------------------
  var typingTimer = null;
  function showTyping(on) {
    var el = $('typing');
    el.textContent = t('typing');
    el.hidden = !on;
    clearTimeout(typingTimer);
    // A lost "off" must not leave the indicator on for ever.
    if (on) typingTimer = setTimeout(function () { el.hidden = true; }, 15000);
  }
  var typingSentAt = 0;
  var typingOn = false;
  var typingIdle = null;
  function typingOff() {
    clearTimeout(typingIdle);
    if (typingOn && live) sendFrame({ type: 'typing', on: false });
    typingOn = false;
  }
  $('text').addEventListener('input', function () {
    if (!live) return;
    var now = Date.now();
    if (!typingOn || now - typingSentAt > TYPING_EVERY_MS) {
      sendFrame({ type: 'typing', on: true });
      typingOn = true;
      typingSentAt = now;
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(typingOff, TYPING_IDLE_MS);
  });

  // -- start, end, wipe ---------------------------------------------------------------------------
  function startChat() {
    $('welcome-error').hidden = true;
    if (!lineId) {
      showError('welcome-error', 'error');
      return;
    }
    finished = false;
    counsellorHere = false;
    queueInfo = null;
    seen = {};
    mine = {};
    lastSeq = 0;
    $('log').textContent = '';
    // >= 128 bits from the browser's CSPRNG: 16 bytes make 22 base64url characters.
    S = { lang: lang, line: lineId, exitUrl: S.exitUrl, token: randomId(16), started: false,
      n: 0, pending: [], open: true };
    save();
    show('v-chat');
    renderQueue();
    connect();
  }

  function clearConversation() {
    $('log').textContent = '';
    $('text').value = '';
    $('typing').hidden = true;
    seen = {};
    mine = {};
    lastSeq = 0;
    queueInfo = null;
    counsellorHere = false;
    emergency.on = false;
    renderEmergency();
  }

  function finish(reasonKey) {
    if (finished) return;
    finished = true;
    ratingToken = S.token || null;
    typingOff();
    dropSocket();
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    setConn('idle');
    wipeStorage();
    // Kept in memory only: nothing is written back after the wipe.
    S = { lang: lang, line: lineId, exitUrl: S.exitUrl };
    clearConversation();
    $('ended-reason').textContent = t(reasonKey);
    $('rating').hidden = !ratingToken;
    $('rating').reset();
    $('rate-thanks').textContent = '';
    show('v-ended');
  }

  function wipeEverything(reason) {
    // The counsellor is told it was a quick exit: the caller may not be safe.
    if (live) sendFrame(reason ? { type: 'end', reason: reason } : { type: 'end' });
    finished = true;
    dropSocket();
    wipeStorage();
    S = {};
    ratingToken = null;
    clearConversation();
    document.querySelectorAll('textarea, input[type=text]').forEach(function (el) { el.value = ''; });
    $('case-log').textContent = '';
    $('code').textContent = '';
  }

  function quickExit() {
    var target = exitUrl();
    wipeEverything('quick_exit');
    document.body.hidden = true;
    if (framed && hostOrigin) toHost({ type: 'hl:exit', url: target });
    else location.replace(target);
  }

  // -- asynchronous cases -------------------------------------------------------------------------
  var currentCode = null;
  function postJson(path, body) {
    return fetch(path, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    });
  }
  function showError(id, key) {
    var el = $(id);
    el.textContent = t(key);
    el.hidden = false;
  }

  function renderCase(kase) {
    $('case-view').hidden = false;
    var log = $('case-log');
    log.textContent = '';
    kase.messages.forEach(function (m) {
      var li = document.createElement('li');
      li.className = 'msg ' + (m.from === 'caller' ? 'from-caller' : 'from-staff');
      var who = document.createElement('span');
      who.className = 'who';
      who.textContent = m.from === 'caller' ? t('you') : t('role');
      var body = document.createElement('p');
      body.className = 'text';
      body.textContent = m.text;
      var meta = document.createElement('span');
      meta.className = 'meta';
      meta.textContent = new Date(m.at).toLocaleString({ sv: 'sv-SE', da: 'da-DK', en: 'en-GB' }[lang]);
      li.appendChild(who);
      li.appendChild(body);
      li.appendChild(meta);
      log.appendChild(li);
    });
    var state = kase.state === 'closed' ? 'caseClosed'
      : kase.state === 'answered' ? 'caseAnswered' : 'caseNoAnswer';
    $('case-state').textContent = t(state);
    $('case-reply').hidden = kase.state === 'closed';
  }

  function lookup(code) {
    $('lookup-error').hidden = true;
    return postJson('/api/cases/lookup', { code: code }).then(function (res) {
      if (res.status === 200) {
        currentCode = code;
        renderCase(res.data.case);
      } else {
        $('case-view').hidden = true;
        showError('lookup-error', res.status === 429 ? 'tooMany'
          : res.status === 404 || res.status === 400 ? 'caseUnknown' : 'error');
      }
    }, function () { showError('lookup-error', 'error'); });
  }

  // -- wiring ---------------------------------------------------------------------------------
  document.querySelectorAll('input[name=lang]').forEach(function (input) {
    input.addEventListener('change', function () {
      lang = input.value;
      S.lang = lang;
      save();
      translate();
    });
  });
  $('start').addEventListener('click', startChat);
  $('to-case').addEventListener('click', function () { show('v-case'); });
  $('queue-case').addEventListener('click', function () {
    // Leave the queue for an asynchronous question: the chat ends, nothing is kept.
    if (live) sendFrame({ type: 'end' });
    finished = true;
    typingOff();
    dropSocket();
    wipeStorage();
    S = { lang: lang, line: lineId, exitUrl: S.exitUrl };
    clearConversation();
    renderQueue();
    show('v-case');
  });
  $('to-lookup').addEventListener('click', function () { show('v-lookup'); });
  document.querySelectorAll('.back').forEach(function (button) {
    button.addEventListener('click', function () {
      currentCode = null;
      $('code').textContent = '';
      $('case-view').hidden = true;
      $('case-log').textContent = '';
      show('v-welcome');
    });
  });
  $('compose').addEventListener('submit', function (event) {
    event.preventDefault();
    var box = $('text');
    var text = box.value.trim();
    if (!text || text.length > MAX_TEXT || finished) return;
    box.value = '';
    typingOff();
    sendText(text);
    box.focus();
  });
  $('text').addEventListener('keydown', function (event) {
    // Enter sends, Shift+Enter makes a new line (as in most chats).
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('compose').requestSubmit();
    }
  });
  $('end').addEventListener('click', function () {
    if (!live || !sendFrame({ type: 'end' })) finish('endedCaller');
  });
  $('rating').addEventListener('submit', function (event) {
    event.preventDefault();
    var picked = document.querySelector('input[name=score]:checked');
    var comment = $('rate-comment').value.trim();
    if (!ratingToken || (!picked && !comment)) return;
    postJson('/api/rating', {
      token: ratingToken, score: picked ? Number(picked.value) : null, comment: comment
    }).then(function () {
      ratingToken = null;
      $('rating').hidden = true;
      $('rate-thanks').textContent = t('rateThanks');
      $('new-chat').focus();
    }, function () { $('rate-thanks').textContent = t('error'); });
  });
  $('new-chat').addEventListener('click', function () {
    ratingToken = null;
    show('v-welcome');
  });
  $('case-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = $('case-text').value.trim();
    if (!text) return;
    $('case-error').hidden = true;
    postJson('/api/cases', { line: lineId, lang: lang, text: text }).then(function (res) {
      if (res.status === 201) {
        $('case-text').value = '';
        currentCode = res.data.code;
        $('code').textContent = currentCode;
        show('v-code');
      } else {
        showError('case-error', res.status === 429 ? 'tooMany' : 'error');
      }
    }, function () { showError('case-error', 'error'); });
  });
  $('code-open').addEventListener('click', function () {
    var code = currentCode;
    show('v-lookup', false);
    $('lookup-code').value = code || '';
    lookup(code).then(function () { $('lookup-title').focus(); });
  });
  $('lookup-form').addEventListener('submit', function (event) {
    event.preventDefault();
    lookup($('lookup-code').value);
  });
  $('case-reply').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = $('case-reply-text').value.trim();
    if (!text || !currentCode) return;
    postJson('/api/cases/reply', { code: currentCode, text: text }).then(function (res) {
      if (res.status === 200) {
        $('case-reply-text').value = '';
        renderCase(res.data.case);
      } else {
        showError('lookup-error', res.status === 429 ? 'tooMany' : 'error');
      }
    }, function () { showError('lookup-error', 'error'); });
  });
  $('exit').addEventListener('click', quickExit);
  $('minimise').addEventListener('click', function () {
    S.open = false;
    save();
    toHost({ type: 'hl:close' });
  });

  var shifts = [];
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Shift' || event.repeat) return;
    var now = Date.now();
    shifts = shifts.filter(function (at) { return now - at < SHIFT_WINDOW_MS; });
    shifts.push(now);
    if (shifts.length >= 3) {
      shifts = [];
      quickExit();
    }
  }, true);

  window.addEventListener('message', function (event) {
    if (!framed || event.source !== window.parent || event.origin !== hostOrigin) return;
    var msg = event.data || {};
    if (msg.type === 'hl:open') {
      if (S.token) {
        S.open = true;
        save();
      }
      focusView();
    } else if (msg.type === 'hl:wipe') {
      wipeEverything();
      document.body.hidden = true;
      toHost({ type: 'hl:wiped' });
    }
  });

  // -- boot -------------------------------------------------------------------------------------
  translate();
  if (S.token) {
    // A conversation in progress (a reload, or the host page changed): resume it.
    show('v-chat', false);
    restorePending();
    renderQueue();
    connect();
  } else {
    show('v-welcome', false);
  }
  loadLines().then(function () {
    translate();
    toHost({ type: 'hl:ready', exitUrl: exitUrl(), open: !!(S.token && S.open) });
  });
})();
