"use strict";
// Shared by the console and the monitor: session, socket, sound, DOM helpers.
// Every piece of data reaches the page through textContent, never innerHTML.
(function () {
  const { t } = window.HelplineI18n;

  // Build an element; text goes in as textContent, attributes as attributes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
  }

  function clock(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleTimeString(window.HelplineI18n.lang, {
      hour: "2-digit", minute: "2-digit",
    });
  }

  async function me() {
    const response = await fetch("/api/me", { credentials: "same-origin" });
    if (response.status === 401) {
      location.assign("/staff/");
      return null;
    }
    return response.json();
  }

  function api(csrf) {
    return async function call(method, path, body) {
      const options = { method, credentials: "same-origin", headers: {} };
      if (method !== "GET") options.headers["X-CSRF-Token"] = csrf;
      if (body !== undefined) {
        options.headers["content-type"] = "application/json";
        options.body = JSON.stringify(body);
      }
      const response = await fetch(path, options);
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.message || response.statusText);
      return data;
    };
  }

  // A short two-tone beep made with WebAudio: no sound file needed.
  let audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const now = audio.currentTime;
      for (const [offset, freq] of [[0, 880], [0.18, 660]]) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.001, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.001, now + offset + 0.16);
        osc.connect(gain).connect(audio.destination);
        osc.start(now + offset);
        osc.stop(now + offset + 0.17);
      }
    } catch (_err) {
      // No audio (autoplay policy, no device): the visible cue remains.
    }
  }

  // The staff socket with reconnects; `onFrame` gets every frame, `onOpen` each (re)connect.
  function connect(onFrame, onOpen, onStatus) {
    let ws = null;
    let delay = 500;
    const queue = [];
    function open() {
      onStatus("connecting");
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      ws = new WebSocket(`${scheme}//${location.host}/ws/staff`);
      ws.addEventListener("open", () => {
        delay = 500;
        onStatus("connected");
        onOpen();
        while (queue.length) ws.send(queue.shift());
      });
      ws.addEventListener("message", (event) => {
        let frame;
        try { frame = JSON.parse(event.data); } catch (_err) { return; }
        if (frame.type === "error" && frame.code === "unauthenticated") {
          location.assign("/staff/");
          return;
        }
        onFrame(frame);
      });
      ws.addEventListener("close", () => {
        onStatus("disconnected");
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      });
    }
    open();
    return function send(frame) {
      const text = JSON.stringify(frame);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
      else queue.push(text);
    };
  }

  function setupChrome(csrf) {
    const select = document.getElementById("lang");
    select.value = window.HelplineI18n.lang;
    select.addEventListener("change", () => {
      window.HelplineI18n.set(select.value);
      document.dispatchEvent(new CustomEvent("helpline:lang"));
    });
    document.getElementById("logout").addEventListener("click", async () => {
      await fetch("/api/logout", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
      });
      location.assign("/staff/");
    });
  }

  function statusLine(state) {
    const node = document.getElementById("connection");
    node.textContent = t(state);
    node.className = `connection ${state}`;
  }

  window.HelplineStaff = { el, duration, clock, me, api, beep, connect, setupChrome, statusLine };
})();
