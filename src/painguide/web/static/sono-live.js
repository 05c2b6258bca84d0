// Live ultrasound page: polls the session status, shows tip, spread and warnings, and sounds every
// warning that is not yet acknowledged (a tone generated here with the Web Audio API, no sound files).
(() => {
  const $ = (id) => document.getElementById(id);
  const root = document.querySelector(".sono-live");
  const session = root.dataset.session;
  const base = "/sono/live/" + encodeURIComponent(session);
  const T = JSON.parse(document.getElementById("sono-text").textContent);
  const lang = document.documentElement.lang || "en";
  const fixed = (v, digits) => v.toLocaleString(lang, {minimumFractionDigits: digits, maximumFractionDigits: digits});
  const mm = (v) => (v === null || v === undefined) ? "—" : fixed(v, 1) + " mm";
  const alarm = {beeps: 0, context: null, open: 0, timer: null};
  window.sonoAlarm = alarm;

  function audio() {
    if (!alarm.context) {
      const Context = window.AudioContext || window.webkitAudioContext;
      alarm.context = Context ? new Context() : null;
    }
    return alarm.context;
  }
  function beep() {
    const ctx = audio();
    if (!ctx) return;
    if (ctx.state !== "running") { $("sound-on").hidden = false; ctx.resume(); return; }
    $("sound-on").hidden = true;
    const now = ctx.currentTime;
    [0, 0.3].forEach((offset, i) => {  // two short tones, high then low: an alarm, not a click
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = i === 0 ? 988 : 740;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.27);
    });
    alarm.beeps += 1;
  }
  function sound(open) {
    alarm.open = open;
    if (open > 0 && alarm.timer === null) {
      beep();
      alarm.timer = setInterval(beep, 1500);
    } else if (open === 0 && alarm.timer !== null) {
      clearInterval(alarm.timer);
      alarm.timer = null;
    }
  }
  // browsers start sound only after a gesture on the page: any click enables it
  document.addEventListener("click", () => { const ctx = audio(); if (ctx && ctx.state !== "running") ctx.resume(); });

  async function post(path, body) {
    // PAGE_HEADER: errors come back in the page's language (web/app.py)
    const r = await fetch(base + path, {method: "POST", body, headers: {"X-Painguide-Page": "1"}});
    const box = $("action-error");
    if (!r.ok) {
      let detail = r.status + " " + r.statusText;
      try {
        const body = await r.json();
        detail = Array.isArray(body.detail) ? body.detail.map((p) => p.field + ": " + p.message).join("; ") : (body.detail || detail);
      } catch (e) { /* not JSON */ }
      box.textContent = detail;
      box.hidden = false;
    } else {
      box.hidden = true;
    }
    return r;
  }
  async function acknowledge(index) {
    const form = new FormData();
    form.append("warning", String(index));
    await post("/ack", form);
    poll(true);
  }

  function warnings(s) {
    const open = s.alerts.filter((a) => !a.acknowledged);
    const banner = $("warnings");
    banner.hidden = open.length === 0;
    const list = $("warning-list");
    list.replaceChildren();
    for (const a of open) {
      const item = document.createElement("div");
      item.className = "sono-alert";
      const title = document.createElement("strong");
      title.textContent = (T.labels[a.type] || a.type.replaceAll("_", " ")).toUpperCase();
      item.append(title, a.detail);
      if (s.can_control) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "sono-ack";
        button.dataset.warning = a.index;
        button.textContent = T.acknowledge;
        button.addEventListener("click", () => acknowledge(a.index));
        item.append(button);
      }
      list.append(item);
    }
    sound(open.length);
  }

  function show(s) {
    $("frames").textContent = s.frames;
    if ($("source") && s.source !== null) $("source").textContent = s.source;
    $("running").textContent = s.running ? T.running : T.ended + (s.error ? ": " + s.error : "");
    $("running").className = "sono-state " + (s.running ? "running" : "ended");
    const n = s.needle;
    const seen = n && n.visible;
    $("tip-x").textContent = seen ? mm(n.tip_x_mm) : "—";
    $("tip-z").textContent = seen ? mm(n.tip_z_mm) : "—";
    $("tip-angle").textContent = seen && n.angle_deg !== null ? fixed(Math.abs(n.angle_deg), 0) + "°" : "—";
    $("tip-confidence").textContent = seen ? fixed(n.confidence, 2) : "—";
    $("tip-note").textContent = n === null ? T.waiting : (seen ? T.visible : T.not_visible);
    $("spread").textContent = s.spread && s.spread.visible ? fixed(s.spread.area_mm2, 0) + " mm²" : T.no_fluid;
    $("injection").textContent = s.injection_started ? T.started : T.not_started;
    if ($("inject")) {
      $("inject").setAttribute("aria-pressed", s.injection_started ? "true" : "false");
      $("inject").textContent = s.injection_started ? T.marked : T.inject;
    }
    warnings(s);
    if (window.sonoSessions) window.sonoSessions(s.sessions || []);  // sono-sessions.js
  }

  let pending = null;
  async function poll(once) {
    try {
      const r = await fetch(base + "/status");
      if (r.ok) show(await r.json());
    } finally {
      if (!once) pending = setTimeout(poll, 500);
    }
  }
  if ($("inject")) $("inject").addEventListener("click", () => post("/injection"));
  if ($("stop")) $("stop").addEventListener("click", () => post("/stop"));
  $("sound-on").addEventListener("click", () => { const ctx = audio(); if (ctx) ctx.resume().then(beep); });
  poll(false);
})();
