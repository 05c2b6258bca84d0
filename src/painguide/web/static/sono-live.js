// Live ultrasound page: draws the annotated stream, polls the session status, shows tip, spread and
// warnings, and sounds every warning that is not yet acknowledged (a tone generated here with the Web
// Audio API, no sound files). A new warning does not wait for the next poll: each image of the stream
// says how many warnings the session has raised, and a higher number asks for the status at once.
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
    view.running = s.running;
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

  // The stream: each part of the MJPEG response is cut out by its Content-Length as soon as its bytes are
  // in, decoded and drawn onto the canvas (an <img> shows a part only later). The connection is opened
  // again whenever it ends (the server ends each after ten minutes); a picture that has not changed for a
  // second is marked as not live.
  const view = {running: true, gone: false, shown: 0, jpeg: null, decoding: false, warnings: 0, asked: 0};
  window.sonoStream = view;
  function concat(a, b) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }
  function headerEnd(bytes) {  // index of the blank line (CR LF CR LF) that ends a part's headers, or -1
    for (let i = 0; i + 3 < bytes.length; i++) {
      if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
    }
    return -1;
  }
  async function draw(canvas) {  // the newest JPEG only: a part that came while one was decoded is skipped
    if (view.decoding || view.jpeg === null) return;
    view.decoding = true;
    const jpeg = view.jpeg;
    view.jpeg = null;
    try {
      const bitmap = await createImageBitmap(new Blob([jpeg], {type: "image/jpeg"}));
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      bitmap.close();
      view.shown = performance.now();
    } catch (e) { /* a damaged image: the next one follows */ }
    view.decoding = false;
    draw(canvas);
  }
  async function read(canvas) {
    const ascii = new TextDecoder("ascii");
    for (;;) {
      let wait = 200;
      try {
        const r = await fetch(canvas.dataset.src, {cache: "no-store"});
        if (r.status === 404) gone();
        if (view.gone) return;  // nothing more will come: the status says why
        if (!r.ok || !r.body) throw new Error(String(r.status));
        const reader = r.body.getReader();
        let bytes = new Uint8Array(0);
        for (;;) {
          const {value, done} = await reader.read();
          if (done) break;
          bytes = concat(bytes, value);
          for (;;) {
            const end = headerEnd(bytes);
            if (end < 0) break;
            const head = ascii.decode(bytes.subarray(0, end));
            const length = /content-length:\s*(\d+)/i.exec(head);
            if (length === null) throw new Error("a stream part without Content-Length");
            const raised = /x-painguide-warnings:\s*(\d+)/i.exec(head);
            const start = end + 4, stop = start + Number(length[1]);
            if (bytes.length < stop) break;
            view.jpeg = bytes.slice(start, stop);
            bytes = bytes.slice(stop);
            draw(canvas);
            const count = raised === null ? view.warnings : Number(raised[1]);
            if (count > view.warnings) {  // a new warning: its words and sound now
              view.asked += 1;
              poll(true);
            }
            view.warnings = count;  // lower: the owner switched the source, and counting starts again
          }
        }
      } catch (e) {
        wait = 2000;  // refused or broken: try again, more slowly
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  function stale() {
    const note = $("stream-stale");
    const age = (performance.now() - view.shown) / 1000;
    const late = view.shown > 0 && age >= 1;
    note.hidden = !late;
    if (late) note.textContent = view.running ? T.stale.replace("{seconds}", fixed(Math.floor(age), 0)) : T.stale_ended;
  }
  const canvas = $("stream");
  if (window.ReadableStream && window.createImageBitmap && window.TextDecoder) {
    read(canvas);
    setInterval(stale, 250);
  } else {  // an older browser: the stream as an image, as without scripts
    const img = document.createElement("img");
    img.id = "stream";
    img.alt = canvas.getAttribute("aria-label");
    img.src = canvas.dataset.src;
    canvas.replaceWith(img);
  }

  // The status: the panel never goes on looking current when the server does not answer. A session that
  // no longer exists (404) is not asked again; a refusal or a lost connection is said and asked again.
  function unanswered(text) {  // said at the top of the panel, and as the state
    $("running").textContent = text;
    $("running").className = "sono-state ended";
    $("status-lost").textContent = text;
    $("status-lost").hidden = false;
    if (window.sonoSessionsStale) window.sonoSessionsStale(true);  // sono-sessions.js
  }
  function gone() {
    view.gone = true;
    view.running = false;
    unanswered(T.gone);
    if (window.sonoSessionsPoll) window.sonoSessionsPoll();  // the list of sessions asks for itself
  }
  const every = Number(root.dataset.pollMs) || 500;
  async function poll(once) {
    try {
      const r = await fetch(base + "/status", {cache: "no-store"});
      if (r.ok) {
        if (!view.gone) {
          show(await r.json());
          $("status-lost").hidden = true;
        }
      } else if (r.status === 404) {
        gone();
      } else {
        let reason = "HTTP " + r.status;
        try { reason = (await r.json()).detail || reason; } catch (e) { /* not JSON */ }
        unanswered(T.refused.replace("{reason}", reason));
      }
    } catch (e) {
      unanswered(T.no_connection);
    } finally {
      if (!once && !view.gone) setTimeout(poll, every);
    }
  }
  if ($("inject")) $("inject").addEventListener("click", () => post("/injection"));
  if ($("stop")) $("stop").addEventListener("click", () => post("/stop"));
  $("sound-on").addEventListener("click", () => { const ctx = audio(); if (ctx) ctx.resume().then(beep); });
  poll(false);
})();
