"use strict";
// The counsellor console: shift, availability, offers, conversations in tabs.
// Live over /ws/staff (docs/protocol.md, docs/console.md). Data is rendered
// with textContent only; the CSP forbids inline scripts and styles.
(async function () {
  const I = window.HelplineI18n;
  const S = window.HelplineStaff;
  const { t } = I;
  const { el } = S;
  const TIERS = ["none", "low", "medium", "high", "imminent"];

  I.apply();
  const session = await S.me();
  if (!session) return;
  const staff = session.staff;
  const call = S.api(session.csrf_token);
  S.setupChrome(session.csrf_token);
  document.getElementById("who").textContent = staff.display_name;

  const state = {
    onShift: false,
    offers: new Map(),         // conversation id -> {frame, li, deadline}
    conversations: new Map(),  // conversation id -> view
    active: null,
    lineData: new Map(),       // line id -> Promise of {canned, referrals, topics}
  };
  // Each (re)connect reloads the questions: hints missed while away are not replayed.
  // When the socket last went down: a console that comes back within RESUME_MS of
  // it resumes the shift (a restart or another process forgets it); one that slept
  // longer (a closed laptop overnight) does not, so offers go to staff who are there.
  const RESUME_MS = 5 * 60 * 1000;
  let lostAt = null;
  const send = S.connect(onFrame, () => loadCases(), (status) => {
    if (status === "disconnected" && lostAt === null) lostAt = Date.now();
    S.statusLine(status);
  });

  // -- header: shift and availability ------------------------------------------

  const shiftButton = document.getElementById("shift");
  const shiftBadge = document.getElementById("shift-state");
  const availability = document.getElementById("availability");
  const pauseReason = document.getElementById("pause-reason");
  const pauseLabel = document.getElementById("pause-reason-label");

  function renderShift() {
    shiftButton.setAttribute("data-i18n", state.onShift ? "shift.end" : "shift.start");
    shiftButton.textContent = t(state.onShift ? "shift.end" : "shift.start");
    shiftBadge.setAttribute("data-i18n", state.onShift ? "shift.on" : "shift.off");
    shiftBadge.textContent = t(state.onShift ? "shift.on" : "shift.off");
    shiftBadge.className = `badge ${state.onShift ? "on" : "off"}`;
  }
  shiftButton.addEventListener("click", () => send({ type: state.onShift ? "clock_out" : "clock_in" }));

  function sendAvailability() {
    const frame = { type: "availability", status: availability.value };
    if (availability.value === "paused" && pauseReason.value.trim()) frame.reason = pauseReason.value.trim();
    send(frame);
  }
  availability.addEventListener("change", () => {
    const paused = availability.value === "paused";
    pauseReason.hidden = !paused;
    pauseLabel.hidden = !paused;
    sendAvailability();
  });
  pauseReason.addEventListener("change", sendAvailability);

  function notice(text) {
    document.getElementById("notice").textContent = text;
  }

  // -- offers -------------------------------------------------------------------

  const offerList = document.getElementById("offer-list");
  function renderOffersEmpty() {
    document.getElementById("no-offers").hidden = state.offers.size > 0;
    document.getElementById("offers").classList.toggle("ringing", state.offers.size > 0);
    document.title = (state.offers.size ? "(!) " : "") + "helpline · " + t("console.title");
  }

  function addOffer(frame) {
    removeOffer(frame.conversation);
    const countdown = el("span", { class: "countdown" });
    const li = el("li", { class: `offer tier-${frame.tier}` },
      el("span", { class: "offer-text", text: t("offer.text", {
        line: frame.line, lang: frame.lang, tier: t(`tier.${frame.tier}`), waited: S.duration(frame.waited_s || 0),
      }) }),
      countdown,
      el("button", { type: "button", class: "accept", text: t("offer.accept"),
        onclick: () => send({ type: "accept", conversation: frame.conversation }) }),
      el("button", { type: "button", class: "secondary", text: t("offer.decline"),
        onclick: () => send({ type: "decline", conversation: frame.conversation }) }));
    const deadline = Date.now() + 1000 * (frame.expires_in_s || 30);
    state.offers.set(frame.conversation, { li, deadline, countdown });
    offerList.append(li);
    tickOffers();
    renderOffersEmpty();
    S.beep();
  }
  function removeOffer(id) {
    const offer = state.offers.get(id);
    if (!offer) return;
    offer.li.remove();
    state.offers.delete(id);
    renderOffersEmpty();
  }
  function tickOffers() {
    for (const offer of state.offers.values()) {
      offer.countdown.textContent = t("offer.expires", { s: Math.max(0, Math.round((offer.deadline - Date.now()) / 1000)) });
    }
  }
  setInterval(tickOffers, 1000);

  // -- questions (cases) ----------------------------------------------------------------
  // Left questions of the lines this member serves (GET /api/staff/cases), oldest
  // first. A `case` frame on the socket is only a hint that the list changed; we
  // then fetch it again. Cards are updated in place so a half-written answer
  // survives a refresh.

  const cases = {
    entries: new Map(),   // case id -> {li, data, rendered}
    loading: null,
    again: false,
    counter: 0,
  };
  const caseToggle = document.getElementById("cases-toggle");
  const caseBody = document.getElementById("case-body");
  const caseList = document.getElementById("case-list");
  const CASES_OPEN_KEY = "helpline.cases.open";

  function setCasesOpen(open) {
    caseBody.hidden = !open;
    caseToggle.setAttribute("aria-expanded", String(open));
    caseToggle.setAttribute("data-i18n", open ? "cases.hide" : "cases.show");
    caseToggle.textContent = t(open ? "cases.hide" : "cases.show");
    localStorage.setItem(CASES_OPEN_KEY, open ? "1" : "0");
  }
  caseToggle.addEventListener("click", () => setCasesOpen(caseBody.hidden));
  setCasesOpen(localStorage.getItem(CASES_OPEN_KEY) === "1");

  function caseStatus(text) {
    document.getElementById("case-status").textContent = text;
  }

  function age(seconds) {
    const minutes = Math.floor(Math.max(0, seconds) / 60);
    if (minutes < 1) return t("age.under_minute");
    if (minutes < 60) return t("age.minutes", { m: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return t("age.hours", { h: hours, m: minutes % 60 });
    return t("age.days", { d: Math.floor(hours / 24), h: hours % 24 });
  }

  // Waiting since the caller last wrote (a follow-up re-opens a case).
  function waitingSince(data) {
    const fromCaller = data.messages.filter((m) => m.from === "caller");
    return Date.parse(fromCaller.length ? fromCaller[fromCaller.length - 1].at : data.updated_at);
  }

  function buildCase(data) {
    cases.counter += 1;
    const n = cases.counter;
    const text = el("textarea", { name: "text", rows: "3", maxlength: "4096", required: true, id: `case-${n}-text` });
    const close = el("input", { type: "checkbox", name: "close", id: `case-${n}-close` });
    const button = el("button", { type: "submit", class: "case-send" });
    const form = el("form", { class: "case-answer" },
      el("label", { for: text.id, class: "case-answer-label" }), text,
      el("div", { class: "case-close" }, close, el("label", { for: close.id, class: "case-close-label" })),
      button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      answerCase(data.id, form);
    });
    const li = el("li", { class: "case", "data-case": data.id },
      el("h3", { class: "case-title" }),
      el("p", { class: "case-age" }),
      el("ol", { class: "case-messages" }),
      form);
    return { li, data, rendered: "" };
  }

  function renderCase(entry, force) {
    const { li, data } = entry;
    li.querySelector(".case-title").textContent = t("cases.item", { line: data.line, lang: data.lang });
    li.querySelector(".case-age").textContent = t("cases.waiting", { age: age((Date.now() - waitingSince(data)) / 1000) });
    li.querySelector(".case-answer-label").textContent = t("cases.answer");
    li.querySelector(".case-close-label").textContent = t("cases.close");
    li.querySelector(".case-send").textContent = t("cases.send");
    const key = `${I.lang}:${data.messages.length}`;
    if (!force && entry.rendered === key) return;
    entry.rendered = key;
    li.querySelector(".case-messages").replaceChildren(...data.messages.map((m) => {
      const from = m.from === "caller" ? "caller" : "counsellor";
      return el("li", { class: `message from-${from}` },
        el("span", { class: "meta", text: `${t(`cases.from.${from}`)} · ${S.clock(m.at)}` }),
        el("span", { class: "body", text: m.text }));
    }));
  }

  function renderCases(list) {
    const focused = document.activeElement;
    const seen = new Set();
    list.forEach((data, index) => {
      seen.add(data.id);
      let entry = cases.entries.get(data.id);
      if (!entry) {
        entry = buildCase(data);
        cases.entries.set(data.id, entry);
      }
      entry.data = data;
      renderCase(entry, false);
      if (caseList.children[index] !== entry.li) caseList.insertBefore(entry.li, caseList.children[index] || null);
    });
    for (const [id, entry] of cases.entries) {
      if (!seen.has(id)) {
        entry.li.remove();
        cases.entries.delete(id);
      }
    }
    if (focused && focused !== document.activeElement && document.contains(focused)) focused.focus();
    document.getElementById("no-cases").hidden = list.length > 0;
    document.getElementById("case-count").textContent = list.length ? t("cases.count", { n: list.length }) : "";
  }

  async function loadCases() {
    if (cases.loading) {
      cases.again = true;
      return cases.loading;
    }
    cases.loading = (async () => {
      try {
        const data = await call("GET", "/api/staff/cases");
        renderCases(data.cases);
      } catch (_err) {
        /* the next hint or reconnect tries again */
      } finally {
        cases.loading = null;
      }
      if (cases.again) {
        cases.again = false;
        await loadCases();
      }
    })();
    return cases.loading;
  }

  async function answerCase(caseId, form) {
    const text = form.text.value.trim();
    if (!text) return;
    const button = form.querySelector(".case-send");
    button.disabled = true;
    try {
      await call("POST", `/api/staff/cases/${encodeURIComponent(caseId)}/answer`, { text, close: form.close.checked });
      caseStatus(t(form.close.checked ? "cases.closed" : "cases.sent"));
    } catch (err) {
      caseStatus(t("error", { message: err.message }));
      button.disabled = false;
    }
    await loadCases();
  }

  setInterval(() => { for (const entry of cases.entries.values()) renderCase(entry, false); }, 30000);

  // -- line data: canned responses, referrals, topics ---------------------------------

  function lineData(lineId) {
    if (!state.lineData.has(lineId)) {
      const base = `/api/console/lines/${encodeURIComponent(lineId)}`;
      state.lineData.set(lineId, Promise.all([
        call("GET", `${base}/canned`).catch(() => ({ canned: [] })),
        call("GET", `${base}/referrals`).catch(() => ({ referrals: [] })),
        call("GET", `${base}/topics`).catch(() => ({ topics: [] })),
      ]).then(([c, r, tp]) => ({ canned: c.canned, referrals: r.referrals, topics: tp.topics })));
    }
    return state.lineData.get(lineId);
  }

  // -- conversations ----------------------------------------------------------------

  let panelCount = 0;
  function tierOptions(select, selected) {
    select.replaceChildren(...TIERS.map((tier) => el("option", { value: tier, text: t(`tier.${tier}`), selected: tier === selected })));
  }

  function openConversation(summary, replayFromStart) {
    let view = state.conversations.get(summary.conversation);
    if (view) {
      Object.assign(view.summary, summary);
      renderInfo(view);
      return view;
    }
    panelCount += 1;
    const id = summary.conversation;
    const panel = document.getElementById("panel-template").content.firstElementChild.cloneNode(true);
    panel.id = `panel-${panelCount}`;
    const tab = el("button", { type: "button", role: "tab", id: `tab-${panelCount}`, "aria-controls": panel.id, "aria-selected": "false", class: "tab" });
    panel.setAttribute("aria-labelledby", tab.id);
    panel.hidden = true;
    I.apply(panel);
    view = {
      id, summary, panel, tab,
      messages: new Map(),     // seq -> {li, body, text, from}
      evidence: new Map(),     // seq -> evidence list
      reasons: [], categories: new Set(), riskBy: null,
      unread: 0, typingTimer: null, callerLeft: !!summary.caller_ended,
      q: (selector) => panel.querySelector(selector),
    };
    state.conversations.set(id, view);
    document.getElementById("tabs").append(tab);
    document.getElementById("panels").append(panel);
    tab.addEventListener("click", () => selectConversation(id));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const ids = [...state.conversations.keys()];
      const next = ids[(ids.indexOf(id) + (event.key === "ArrowRight" ? 1 : ids.length - 1)) % ids.length];
      selectConversation(next);
      state.conversations.get(next).tab.focus();
    });
    wirePanel(view);
    renderInfo(view);
    if (!state.active) selectConversation(id);
    document.getElementById("no-conversations").hidden = true;
    if (replayFromStart) send({ type: "sync", conversation: id, last_seq: 0 });
    loadDetail(view);
    lineData(summary.line).then((data) => fillLineData(view, data));
    return view;
  }

  function closeConversation(id) {
    const view = state.conversations.get(id);
    if (!view) return;
    view.tab.remove();
    view.panel.remove();
    state.conversations.delete(id);
    if (state.active === id) {
      state.active = null;
      const next = state.conversations.keys().next();
      if (!next.done) selectConversation(next.value);
    }
    document.getElementById("no-conversations").hidden = state.conversations.size > 0;
  }

  function selectConversation(id) {
    state.active = id;
    for (const view of state.conversations.values()) {
      const selected = view.id === id;
      view.panel.hidden = !selected;
      view.tab.setAttribute("aria-selected", String(selected));
      view.tab.tabIndex = selected ? 0 : -1;
      if (selected) view.unread = 0;
      renderTab(view);
    }
  }

  function renderTab(view) {
    const short = view.id.slice(0, 4);
    const parts = [el("span", { text: t("tab.label", { line: view.summary.line, short }) })];
    if (view.summary.tier && view.summary.tier !== "none") {
      parts.push(el("span", { class: `tier-pill tier-${view.summary.tier}`, text: t(`tier.${view.summary.tier}`) }));
    }
    if (view.unread > 0) {
      parts.push(el("span", { class: "unread", text: String(view.unread), "aria-label": t("unread", { n: view.unread }) }));
    }
    view.tab.replaceChildren(...parts);
  }

  function renderInfo(view) {
    const s = view.summary;
    view.q(".info-line").textContent = t("info.line", { line: s.line, lang: s.lang });
    if (s.queued_at && s.accepted_at) {
      const waited = (Date.parse(s.accepted_at) - Date.parse(s.queued_at)) / 1000;
      view.q(".info-wait").textContent = t("info.waited", { waited: S.duration(waited) });
    }
    if (view.callerLeft) view.q(".conv-status").textContent = t("info.caller_left");
    renderRisk(view);
    renderTab(view);
  }

  function wirePanel(view) {
    const id = view.id;
    tierOptions(view.q(".reassess-form .tier-select"), view.summary.tier || "none");
    tierOptions(view.q(".wrapup-form .tier-select"), view.summary.tier || "none");
    const textarea = view.q(".composer textarea");
    let typing = false;
    let typingStop = null;
    textarea.addEventListener("input", () => {
      if (!typing) { typing = true; send({ type: "typing", conversation: id, on: true }); }
      clearTimeout(typingStop);
      typingStop = setTimeout(() => { typing = false; send({ type: "typing", conversation: id, on: false }); }, 3000);
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Tab" && !event.shiftKey) {
        const match = /^\/([a-z0-9_-]+)$/.exec(textarea.value.trim());
        const canned = match && (view.canned || []).find((c) => c.shortcut === match[1] && c.lang === view.summary.lang);
        if (canned) { event.preventDefault(); textarea.value = fillCanned(canned.body); }
      } else if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        view.q(".composer").requestSubmit();
      }
    });
    view.q(".composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = textarea.value.trim();
      if (!text) return;
      send({ type: "send", conversation: id, id: `s-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, text });
      textarea.value = "";
      if (typing) { typing = false; send({ type: "typing", conversation: id, on: false }); }
    });
    view.q(".canned").addEventListener("change", (event) => {
      const canned = (view.canned || []).find((c) => String(c.id) === event.target.value);
      if (canned) {
        textarea.value = (textarea.value ? textarea.value + " " : "") + fillCanned(canned.body);
        textarea.focus();
      }
      event.target.value = "";
    });
    view.q(".reassess-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      send({ type: "reassess", conversation: id, tier: form.tier.value, reason: form.reason.value.trim() });
      form.reason.value = "";
      view.q(".reassess").open = false;
    });
    view.q(".note-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = event.target.text.value.trim();
      if (text) send({ type: "note", conversation: id, text });
      event.target.text.value = "";
    });
    view.q(".whisper-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = event.target.text.value.trim();
      if (text) send({ type: "whisper", conversation: id, text });
      event.target.text.value = "";
    });
    view.q(".help").addEventListener("click", () => send({ type: "help", conversation: id }));
    const target = view.q(".transfer-target");
    target.addEventListener("focus", () => loadTransferTargets(view));
    loadTransferTargets(view);
    view.q(".transfer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const [kind, value] = (target.value || "").split(":");
      if (kind === "staff") send({ type: "transfer", conversation: id, to_staff: Number(value) });
      else if (kind === "line") send({ type: "transfer", conversation: id, to_line: value });
    });
    view.q(".wrapup-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      const topics = [...form.querySelectorAll("input[name=topic]:checked")].map((box) => box.value);
      send({ type: "end", conversation: id, topics, outcome: form.outcome.value, risk_tier: form.risk_tier.value });
    });
  }

  function fillCanned(body) {
    return body.replace(/\{name\}/g, staff.display_name);
  }

  async function loadTransferTargets(view) {
    const select = view.q(".transfer-target");
    const current = select.value;
    try {
      const data = await call("GET", `/api/console/colleagues?line=${encodeURIComponent(view.summary.line)}`);
      select.replaceChildren(
        el("option", { value: "", text: t("transfer.pick") }),
        ...data.staff.map((p) => el("option", { value: `staff:${p.id}`, text: t("transfer.staff", { name: p.name }) })),
        ...data.lines.map((l) => el("option", { value: `line:${l.id}`, text: t("transfer.line", { name: I.local(l.name) }) })));
      select.value = current;
    } catch (_err) { /* keep what we had */ }
  }

  function fillLineData(view, data) {
    view.canned = data.canned;
    const cannedSelect = view.q(".canned");
    cannedSelect.replaceChildren(
      el("option", { value: "", text: t("canned.pick") }),
      ...data.canned.filter((c) => c.lang === view.summary.lang)
        .map((c) => el("option", { value: String(c.id), text: `/${c.shortcut} · ${c.title}` })));
    const referrals = view.q(".referrals");
    if (!data.referrals.length) referrals.replaceChildren(el("li", { text: t("referrals.none") }));
    else referrals.replaceChildren(...data.referrals.map((r) => {
      const li = el("li", { class: `referral ${r.category}` },
        el("span", { class: "category", text: t(`category.${r.category}`) }), " ",
        el("strong", { text: I.local(r.name) }));
      const desc = I.local(r.description);
      if (desc) li.append(" · ", desc);
      if (r.phone) li.append(" ", el("a", { href: `tel:${r.phone.replace(/[^0-9+]/g, "")}`, text: r.phone }));
      if (r.url && /^https:\/\//.test(r.url)) li.append(" ", el("a", { href: r.url, target: "_blank", rel: "noopener noreferrer", text: new URL(r.url).host }));
      return li;
    }));
    const fieldset = view.q(".topics");
    const legend = fieldset.querySelector("legend");
    const boxes = data.topics.map((topic, n) => {
      const boxId = `${view.panel.id}-topic-${n}`;
      return el("div", { class: "topic" },
        el("input", { type: "checkbox", name: "topic", value: topic.id, id: boxId }),
        el("label", { for: boxId, text: I.local(topic.label) }));
    });
    fieldset.replaceChildren(legend, ...(boxes.length ? boxes : [el("p", { text: t("topics.none") })]));
  }

  async function loadDetail(view) {
    try {
      const detail = await call("GET", `/api/console/conversations/${view.id}`);
      for (const note of detail.notes) addStaffText(view, ".notes", note);
      for (const whisper of detail.whispers) addStaffText(view, ".whispers", whisper);
      for (const risk of detail.risk) applyRisk(view, risk, false);
    } catch (_err) { /* a reload shows them */ }
  }

  // -- transcript ----------------------------------------------------------------------

  function addMessage(view, frame) {
    if (view.messages.has(frame.seq)) return;
    const from = frame.from === "caller" ? "caller" : frame.from;
    const body = el("span", { class: "body" });
    const li = el("li", { class: `message from-${from}` },
      el("span", { class: "meta", text: `${t(`from.${from}`)} · ${S.clock(frame.at)}` }), body);
    view.messages.set(frame.seq, { li, body, text: frame.text, from });
    renderBody(view, frame.seq);
    // Keep seq order even if a replay interleaves with live messages.
    const list = view.q(".transcript");
    const later = [...list.children].find((node) => Number(node.dataset.seq) > frame.seq);
    li.dataset.seq = String(frame.seq);
    list.insertBefore(li, later || null);
    li.scrollIntoView({ block: "nearest" });
    if (frame.from === "caller") {
      view.q(".typing").hidden = true;
      if (state.active !== view.id || document.hidden) {
        view.unread += 1;
        renderTab(view);
      }
    }
  }

  // -- risk explanations in the counsellor's language ----------------------------------
  // The engine explains itself in English (frame.reasons, evidence[].reason); the
  // table of GET /api/console/explain ({signal|group|rule|effect: {key: {sv, da, en}}},
  // triage/lexicons/explain.toml) gives each signal, rule and effect in the chosen
  // language. Missing texts fall back to English, then to the engine's reason.
  let explainTable = null;
  call("GET", "/api/console/explain").then((table) => {
    explainTable = table;
    renderAllRisk();
  }).catch(() => { /* the engine's English reasons stay */ });

  function explained(kind, key) {
    const entry = explainTable && explainTable[kind] && explainTable[kind][key];
    if (!entry || typeof entry !== "object") return "";
    return String(entry[I.lang] || entry.en || "");
  }

  // "sv.means.hoarded#2" -> "means.hoarded", as triage/explain.py's group_key.
  function groupKey(ruleId) {
    const id = String(ruleId || "").split("#")[0];
    const found = /^(?:sv|da|en)\.(.+)$/.exec(id);
    return found ? found[1] : id;
  }

  // What an evidence item means; with `effect`, also why it was discounted.
  function evidenceMeaning(e, effect) {
    const meaning = explained("rule", e.rule_id) || explained("group", groupKey(e.rule_id))
      || explained("signal", e.signal) || e.reason || e.rule || e.rule_id || "";
    if (!effect || !e.effect || e.effect === "counted") return meaning;
    return `${meaning} (${explained("effect", e.effect) || e.effect.replace(/_/g, " ")})`;
  }

  function evidenceItem(e) {
    return { key: `e|${groupKey(e.rule_id)}|${e.effect}|${String(e.text || "").toLowerCase()}`, evidence: e };
  }

  // One of the engine's reason sentences (docs/triage.md "Output"): a combination
  // or semantic rule "<tier>: <reason>[ (with an earlier message)]: <signal> “words”, … [<rule id>]",
  // a lexicon group's line (shown already by its evidence item, so dropped), the
  // context floor, or anything else (shown as sent).
  function reasonItem(sentence, evidence) {
    sentence = String(sentence);
    const discounted = /^discounted \((\w+), counts as (\w+)\): .* \[([^\]\s]+)\]$/.exec(sentence);
    const ruled = discounted ? null : /^(\w+): (.*) \[([^\]\s]+)\]$/.exec(sentence);
    const id = discounted ? discounted[3] : ruled ? ruled[3] : null;
    if (id && evidence.some((e) => String(e.rule_id || "").split("#")[0] === id)) return null;
    if (ruled && TIERS.includes(ruled[1])) {
      return {
        key: sentence, english: sentence, rule: id, tier: ruled[1],
        earlier: ruled[2].includes("(with an earlier message)"),
        quotes: [...ruled[2].matchAll(/“([^“”]*)”/g)].map((m) => m[1]),
      };
    }
    const floor = /^(\w+): an earlier message in this conversation was (\w+)$/.exec(sentence);
    if (floor && TIERS.includes(floor[1]) && TIERS.includes(floor[2])) {
      return { key: sentence, english: sentence, floor: [floor[1], floor[2]] };
    }
    return { key: sentence, english: sentence };
  }

  function reasonText(item) {
    const quote = (words) => t("risk.quote", { text: words });
    if (item.evidence) {
      const e = item.evidence;
      // The semantic layer's evidence spans the whole message: show the exemplars it
      // resembled (quoted in its reason) instead of the caller's words again.
      const like = e.rule_id === "semantic.nearest"
        ? [...String(e.reason || "").matchAll(/“([^“”]*)”/g)].map((m) => m[1]) : [];
      const text = like.length ? `${evidenceMeaning(e, false)}, ${t("risk.like")} ${like.map(quote).join(", ")}`
        : e.text ? `${evidenceMeaning(e, false)} ${quote(e.text)}` : evidenceMeaning(e, false);
      const line = e.effect && e.effect !== "counted"
        ? `${text} (${explained("effect", e.effect) || e.effect.replace(/_/g, " ")})` : text;
      return TIERS.includes(e.tier) && e.tier !== "none" ? t("risk.line", { tier: t(`tier.${e.tier}`), text: line }) : line;
    }
    if (item.rule) {
      const meaning = explained("rule", item.rule);
      if (!meaning) return item.english;
      let text = item.earlier ? `${meaning} (${t("risk.with_earlier")})` : meaning;
      if (item.quotes.length) text += `: ${item.quotes.map(quote).join(", ")}`;
      return t("risk.line", { tier: t(`tier.${item.tier}`), text });
    }
    if (item.floor) return t("risk.floor", { tier: t(`tier.${item.floor[0]}`), earlier: t(`tier.${item.floor[1]}`) });
    return item.english;
  }

  // After a language switch or once the table arrives: reasons and <mark> titles again.
  function renderAllRisk() {
    for (const view of state.conversations.values()) {
      for (const seq of view.evidence.keys()) renderBody(view, seq);
      renderRisk(view);
    }
  }

  // Highlight the evidence spans of a message with <mark>, built from text nodes.
  function renderBody(view, seq) {
    const message = view.messages.get(seq);
    if (!message) return;
    const spans = (view.evidence.get(seq) || [])
      .filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.end > e.start)
      .sort((a, b) => a.start - b.start);
    const parts = [];
    let at = 0;
    for (const span of spans) {
      const start = Math.max(at, Math.min(span.start, message.text.length));
      const end = Math.min(span.end, message.text.length);
      if (end <= start) continue;
      parts.push(message.text.slice(at, start));
      parts.push(el("mark", { title: evidenceMeaning(span, true), class: `evidence tier-${span.tier || "high"}`, text: message.text.slice(start, end) }));
      at = end;
    }
    parts.push(message.text.slice(at));
    message.body.replaceChildren(...parts);
  }

  function applyRisk(view, frame, live) {
    if (frame.tier) view.summary.tier = frame.tier;
    if (frame.by) view.riskBy = { who: frame.staff || frame.by, reason: frame.reason || "" };
    for (const category of frame.categories || []) view.categories.add(category);
    const evidence = frame.evidence || [];
    const items = evidence.map(evidenceItem).concat((frame.reasons || []).map((r) => reasonItem(r, evidence)));
    for (const item of items) {
      if (item && !view.reasons.some((known) => known.key === item.key)) view.reasons.push(item);
    }
    if (frame.seq && evidence.length) {
      view.evidence.set(frame.seq, [...(view.evidence.get(frame.seq) || []), ...evidence]);
      renderBody(view, frame.seq);
    }
    renderRisk(view);
    renderTab(view);
    if (live && ["high", "imminent"].includes(frame.tier) && frame.previous_tier !== frame.tier && !frame.by) S.beep();
  }

  function renderRisk(view) {
    const banner = view.q(".risk-banner");
    const tier = view.summary.tier || "none";
    banner.hidden = tier === "none" && !view.reasons.length && !view.riskBy;
    banner.className = `risk-banner tier-${tier}`;
    banner.setAttribute("role", ["high", "imminent"].includes(tier) ? "alert" : "status");
    view.q(".risk-tier").textContent = t("risk.tier", { tier: t(`tier.${tier}`) });
    view.q(".risk-categories").textContent = [...view.categories].map((c) => t(`riskcat.${c}`)).join(", ");
    view.q(".risk-reasons").replaceChildren(...view.reasons.slice(-6).map((r) => el("li", { text: reasonText(r) })));
    view.q(".risk-by").textContent = view.riskBy ? t("risk.by", view.riskBy) : "";
  }

  function addStaffText(view, selector, item) {
    const list = view.q(selector);
    if (list.querySelector(`[data-id="${Number(item.id)}"]`)) return;
    list.append(el("li", { "data-id": String(Number(item.id)) },
      el("span", { class: "meta", text: `${item.by} · ${S.clock(item.at)}` }), " ", item.text));
  }

  // -- frames ---------------------------------------------------------------------------

  function viewFor(frame) {
    return state.conversations.get(frame.conversation);
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "hello": {
        const resume = lostAt !== null && Date.now() - lostAt < RESUME_MS && state.onShift;
        const chosen = availability.value;
        lostAt = null;
        state.onShift = frame.on_shift;
        renderShift();
        availability.value = frame.availability;
        if (resume && !frame.on_shift) {
          send({ type: "clock_in" });
          if (chosen && chosen !== frame.availability) {
            availability.value = chosen;
            sendAvailability();
          }
          notice(t("shift.resumed"));
        }
        for (const conv of frame.conversations) openConversation(conv, true);
        break;
      }
      case "shift":
        state.onShift = frame.on_shift;
        renderShift();
        break;
      case "availability":
        availability.value = frame.status;
        break;
      case "offer":
        addOffer(frame);
        break;
      case "offer_withdrawn":
        removeOffer(frame.conversation);
        notice(t("offer.withdrawn", { reason: frame.reason }));
        break;
      case "declined":
        removeOffer(frame.conversation);
        break;
      case "assigned": {
        removeOffer(frame.conversation);
        const view = openConversation(frame, false);
        selectConversation(view.id);
        break;
      }
      case "transferred_in": {
        // The server follows the conversation for us: the transcript comes next.
        notice(t("transfer.in", { from: frame.from }));
        openConversation(frame, false);
        S.beep();
        break;
      }
      case "transferred_out":
        send({ type: "leave", conversation: frame.conversation });
        closeConversation(frame.conversation);
        notice(frame.reason === "take_over" ? t("transfer.taken", { by: frame.by }) : t("transfer.done"));
        break;
      case "message": {
        const view = viewFor(frame);
        if (view) addMessage(view, frame);
        break;
      }
      case "typing": {
        const view = viewFor(frame);
        if (!view || frame.from !== "caller") break;
        const node = view.q(".typing");
        node.hidden = !frame.on;
        clearTimeout(view.typingTimer);
        if (frame.on) view.typingTimer = setTimeout(() => { node.hidden = true; }, 8000);
        break;
      }
      case "risk": {
        const view = viewFor(frame);
        if (view) applyRisk(view, frame, true);
        break;
      }
      case "note": {
        const view = viewFor(frame);
        if (view) addStaffText(view, ".notes", frame);
        break;
      }
      case "whisper": {
        const view = viewFor(frame);
        if (view) {
          addStaffText(view, ".whispers", frame);
          if (frame.staff_id !== staff.id) S.beep();
        }
        break;
      }
      case "help_requested":
        notice(t("help.sent"));
        break;
      case "case":
        if (frame.change === "created" || frame.change === "followed_up") caseStatus(t("cases.arrived"));
        loadCases();
        break;
      case "caller_disconnected": {
        const view = viewFor(frame);
        if (view) view.q(".conv-status").textContent = t("info.caller_gone", { s: Math.round(frame.grace_s) });
        break;
      }
      case "caller_reconnected": {
        const view = viewFor(frame);
        if (view) view.q(".conv-status").textContent = t("info.caller_back");
        break;
      }
      case "ended": {
        const view = viewFor(frame);
        if (view) {
          view.callerLeft = true;
          view.q(".typing").hidden = true;
          view.q(".conv-status").textContent = t("info.caller_left");
        }
        break;
      }
      case "wrapped_up":
        closeConversation(frame.conversation);
        break;
      case "error":
        notice(t("error", { message: frame.message || frame.code }));
        break;
      default:
        break;
    }
  }

  document.addEventListener("helpline:lang", () => {
    renderShift();
    renderOffersEmpty();
    setCasesOpen(!caseBody.hidden);
    for (const entry of cases.entries.values()) renderCase(entry, true);
    document.getElementById("case-count").textContent = cases.entries.size ? t("cases.count", { n: cases.entries.size }) : "";
    for (const view of state.conversations.values()) {
      I.apply(view.panel);
      renderInfo(view);
      tierOptions(view.q(".reassess-form .tier-select"), view.summary.tier || "none");
      tierOptions(view.q(".wrapup-form .tier-select"), view.summary.tier || "none");
      lineData(view.summary.line).then((data) => fillLineData(view, data));
    }
    renderAllRisk();
  });
  renderShift();
  renderOffersEmpty();
})();
