"use strict";
// The supervisor's shift monitor: the server pushes `monitor_snapshot` frames
// every 2 s while subscribed, and `alert` frames at once (docs/console.md).
(async function () {
  const I = window.HelplineI18n;
  const S = window.HelplineStaff;
  const { t } = I;
  const { el } = S;

  I.apply();
  const session = await S.me();
  if (!session) return;
  const me = session.staff;
  if (me.role === "counsellor") {
    document.getElementById("notice").textContent = t("not_supervisor");
    location.assign("/staff/console.html");
    return;
  }
  S.setupChrome(session.csrf_token);
  document.getElementById("who").textContent = me.display_name;

  const state = { snapshot: null, alerts: new Map(), rendered: {}, joined: null, seqs: new Set() };
  const send = S.connect(onFrame, () => {
    send({ type: "monitor", on: true });
    if (state.joined) send({ type: "join", conversation: state.joined.conversation });
  }, S.statusLine);

  function notice(text) { document.getElementById("notice").textContent = text; }
  function tierCell(tier) { return el("td", { class: `tier-cell tier-${tier}`, text: t(`tier.${tier}`) }); }
  function lineName(id) {
    const line = (state.snapshot && state.snapshot.lines.find((l) => l.id === id)) || null;
    return line ? I.local(line.name) : id;
  }
  // Rebuild a section only when its data changed, so focus is not lost every 2 s.
  function changed(key, value) {
    const text = JSON.stringify([I.lang, value]);
    if (state.rendered[key] === text) return false;
    state.rendered[key] = text;
    return true;
  }
  function emptyRow(columns, key) {
    return el("tr", {}, el("td", { colspan: String(columns), text: t(key) }));
  }

  // The light's reasons in the supervisor's language; the English text if a code is new.
  function healthWhy(line) {
    if (!line.health_why) return line.health_reasons.join("; ");
    return line.health_why.map((w, i) => {
      const key = `health.why.${w.code}`;
      const text = t(key, w.params);
      return text === key ? line.health_reasons[i] : text;
    }).join("; ");
  }

  // An alert's reason in the supervisor's language; the English text for an alert
  // stored before reasons had codes, or a code this page does not know yet.
  function alertWhy(a) {
    if (!a.why || !a.why.code) return a.reason;
    const params = { ...(a.why.params || {}) };
    if (params.tier) params.tier = t(`tier.${params.tier}`);
    // Category codes (alerts since category_codes was added) in the page's language.
    if (Array.isArray(params.category_codes)) {
      const codes = params.category_codes.length ? params.category_codes : ["none"];
      params.categories = codes.map((c) => t(`riskcat.${c}`)).join(", ");
    }
    const key = `alert.why.${a.why.code}`;
    const text = t(key, params);
    return text === key ? a.reason : text;
  }

  function renderSnapshot() {
    const snap = state.snapshot;
    if (!snap) return;
    if (changed("lines", snap.lines)) {
      document.getElementById("lines").replaceChildren(...snap.lines.map((line) => el("tr", { "data-line": line.id },
        el("th", { scope: "row", text: I.local(line.name) }),
        el("td", {}, el("span", { class: `light ${line.health}`, text: t(`health.${line.health}`) })),
        el("td", { class: "waiting", text: String(line.waiting) }),
        el("td", { text: S.duration(line.longest_wait_s) }),
        el("td", { text: `${line.on_shift} / ${line.available}` }),
        el("td", { text: healthWhy(line) }))));
    }
    if (changed("queue", snap.queue)) {
      document.getElementById("queue").replaceChildren(...(snap.queue.length ? snap.queue.map((q) => el("tr", {},
        el("td", { text: lineName(q.line) }), tierCell(q.tier), el("td", { text: S.duration(q.waited_s) }))) : [emptyRow(3, "queue.none")]));
    }
    const activeKey = snap.active.map((a) => [a.conversation, a.counsellor, a.tier, Math.floor(a.duration_s / 10)]);
    if (changed("active", activeKey)) {
      document.getElementById("active").replaceChildren(...(snap.active.length ? snap.active.map((a) => el("tr", { "data-conversation": a.conversation },
        el("td", { text: lineName(a.line) }),
        el("td", { text: a.counsellor || "" }),
        el("td", { text: S.duration(a.duration_s) }),
        tierCell(a.tier),
        el("td", {},
          el("button", { type: "button", class: "join", text: t("join"), onclick: () => join(a) }), " ",
          el("button", { type: "button", class: "danger", text: t("takeover"), onclick: () => send({ type: "take_over", conversation: a.conversation }) })))) : [emptyRow(5, "active.none")]));
    }
    if (changed("staff", snap.staff)) {
      document.getElementById("staff").replaceChildren(...(snap.staff.length ? snap.staff.map((s) => el("tr", {},
        el("td", { text: s.name }),
        el("td", { text: s.role }),
        el("td", { text: [s.on_shift ? t("shift.on") : t("shift.off"), t(`status.${s.availability}`), s.reason || ""].filter(Boolean).join(" · ") }),
        el("td", { text: `${s.load} / ${s.capacity}` }))) : [emptyRow(4, "staff.none")]));
    }
    if (changed("coverage", snap.coverage)) {
      const list = document.getElementById("coverage");
      if (!snap.coverage) list.replaceChildren(el("li", { text: t("coverage.none") }));
      else {
        const items = [
          ...snap.coverage.now.map((a) => el("li", { class: "gap", text: `${t("coverage.now")}: ${a.reason}` })),
          ...snap.coverage.gaps.map((g) => el("li", { class: "gap", text: t("coverage.gap", {
            line: g.line, missing: g.missing, role: g.role, start: S.clock(g.start), end: S.clock(g.end) }) })),
        ];
        list.replaceChildren(...(items.length ? items : [el("li", { text: t("coverage.ok") })]));
      }
    }
    for (const alert of snap.alerts) if (!state.alerts.has(alert.id)) state.alerts.set(alert.id, alert);
    renderAlerts();
  }

  function renderAlerts() {
    const alerts = [...state.alerts.values()].sort((a, b) =>
      (a.acknowledged_at ? 1 : 0) - (b.acknowledged_at ? 1 : 0) || b.at.localeCompare(a.at)).slice(0, 30);
    if (!changed("alerts", alerts)) return;
    const list = document.getElementById("alerts");
    list.replaceChildren(...(alerts.length ? alerts.map((a) => {
      const li = el("li", { class: `alert-item${a.acknowledged_at ? " acked" : ""}`, "data-kind": a.kind },
        el("strong", { text: t(`alert.kind.${a.kind}`) }),
        a.tier ? el("span", { text: ` · ${t(`tier.${a.tier}`)}` }) : null,
        el("span", { class: "meta", text: `${S.clock(a.at)} · ${a.line ? lineName(a.line) : ""}` }),
        el("span", { class: "reason", text: alertWhy(a) }));
      if (a.acknowledged_at) li.append(el("span", { class: "meta", text: t("alert.acked", { who: a.acknowledged_by || "", at: S.clock(a.acknowledged_at) }) }));
      else li.append(" ", el("button", { type: "button", class: "ack", text: t("alert.ack"), onclick: () => send({ type: "ack_alert", alert: a.id }) }));
      if (a.conversation && !a.acknowledged_at) li.append(" ", el("button", { type: "button", class: "secondary", text: t("join"), onclick: () => join({ conversation: a.conversation }) }));
      return li;
    }) : [el("li", { text: t("alerts.none") })]));
  }

  // -- a joined conversation -----------------------------------------------------------

  function join(conv) {
    if (state.joined && state.joined.conversation !== conv.conversation) send({ type: "leave", conversation: state.joined.conversation });
    state.joined = { conversation: conv.conversation };
    state.seqs = new Set();
    document.getElementById("joined-transcript").replaceChildren();
    document.getElementById("joined-whispers").replaceChildren();
    send({ type: "join", conversation: conv.conversation });
  }

  function showJoined(frame) {
    state.joined = frame;
    document.getElementById("joined").hidden = false;
    document.getElementById("joined-none").hidden = true;
    document.getElementById("joined-info").textContent = t("joined.with", { line: lineName(frame.line), counsellor: frame.counsellor || "—" });
    const whispers = document.getElementById("joined-whispers");
    whispers.replaceChildren();
    for (const w of frame.whispers) addWhisper(w);
  }

  function addWhisper(w) {
    const list = document.getElementById("joined-whispers");
    if (list.querySelector(`[data-id="${Number(w.id)}"]`)) return;
    list.append(el("li", { "data-id": String(Number(w.id)) }, el("span", { class: "meta", text: `${w.by} · ${S.clock(w.at)}` }), " ", w.text));
  }

  function addMessage(frame) {
    if (state.seqs.has(frame.seq)) return;
    state.seqs.add(frame.seq);
    const list = document.getElementById("joined-transcript");
    const li = el("li", { class: `message from-${frame.from}`, "data-seq": String(frame.seq) },
      el("span", { class: "meta", text: `${frame.from === "counsellor" ? t("col.counsellor") : t(`from.${frame.from}`)} · ${S.clock(frame.at)}` }), frame.text);
    const later = [...list.children].find((node) => Number(node.dataset.seq) > frame.seq);
    list.insertBefore(li, later || null);
  }

  document.getElementById("whisper-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("whisper-text");
    const text = input.value.trim();
    if (text && state.joined) send({ type: "whisper", conversation: state.joined.conversation, text });
    input.value = "";
  });
  document.getElementById("joined-takeover").addEventListener("click", () => {
    if (state.joined) send({ type: "take_over", conversation: state.joined.conversation });
  });
  document.getElementById("joined-leave").addEventListener("click", () => {
    if (!state.joined) return;
    send({ type: "leave", conversation: state.joined.conversation });
    state.joined = null;
    document.getElementById("joined").hidden = true;
    document.getElementById("joined-none").hidden = false;
  });

  function onFrame(frame) {
    switch (frame.type) {
      case "monitor_snapshot":
        state.snapshot = frame;
        renderSnapshot();
        break;
      case "alert":
        state.alerts.set(frame.id, frame);
        renderAlerts();
        S.beep();
        break;
      case "alert_ack":
        state.alerts.set(frame.id, frame);
        renderAlerts();
        break;
      case "joined_silently":
        showJoined(frame);
        break;
      case "message":
        if (state.joined && frame.conversation === state.joined.conversation) addMessage(frame);
        break;
      case "whisper":
        if (state.joined && frame.conversation === state.joined.conversation) addWhisper(frame);
        break;
      case "assigned":
        if (frame.taken_over) location.assign("/staff/console.html");
        break;
      case "error":
        notice(t("error", { message: frame.message || frame.code }));
        break;
      default:
        break;
    }
  }

  document.addEventListener("helpline:lang", () => { state.rendered = {}; renderSnapshot(); renderAlerts(); });
})();
