// Live ultrasound page: keeps the list of live sessions as the server reports it. Rows are added for
// sessions started since the page loaded and removed for sessions stopped; state and open warnings follow.
// The open session's status poll (sono-live.js) passes its rows here; without an open session, this polls
// /sono/live/sessions itself. Without an answer, the list says it is not current.
(() => {
  const table = document.getElementById("sessions");
  if (!table) return;
  const body = table.tBodies[0];
  const d = table.dataset;
  const current = document.querySelector(".sono-live");
  const open = current ? current.dataset.session : null;

  function cell(row, text, attr, id) {
    const td = row.insertCell();
    td.textContent = text;
    if (attr) td.setAttribute(attr, id);
    return td;
  }
  function added(s) {
    const row = body.insertRow();
    row.dataset.session = s.id;
    if (s.id === open) row.className = "sono-current";
    const link = document.createElement("a");
    link.href = "/sono/live?session=" + encodeURIComponent(s.id);
    link.textContent = s.id;
    row.insertCell().appendChild(link);
    cell(row, s.owner + (s.owner === d.user ? " (" + d.you + ")" : ""));
    if (d.identity === "1") {
      const code = document.createElement("code");
      code.textContent = s.source === null ? "" : s.source;
      row.insertCell().appendChild(code);
    }
    cell(row, "", "data-state", s.id);
    cell(row, "", "data-open", s.id);
    return row;
  }
  // When the server does not answer (this page's poll, or the open session's status poll), the list says
  // it is not current; the next answer takes the note away.
  const note = document.getElementById("sessions-stale");
  function stale(yes) {
    if (note) note.hidden = !yes;
    table.classList.toggle("sono-old", yes);
  }
  window.sonoSessionsStale = stale;
  function update(rows) {
    stale(false);
    const listed = new Map([...body.rows].filter((r) => r.dataset.session).map((r) => [r.dataset.session, r]));
    for (const s of rows) {
      if (!listed.has(s.id)) listed.set(s.id, added(s));
      listed.get(s.id).querySelector("[data-state]").textContent = s.running ? d.running : d.ended;
      listed.get(s.id).querySelector("[data-open]").textContent = s.unacknowledged;
    }
    const now = new Set(rows.map((s) => s.id));
    for (const [id, row] of listed) if (!now.has(id)) row.remove();
    const none = body.querySelector("tr.sono-none");
    if (none) none.hidden = rows.length > 0;
  }
  window.sonoSessions = update;

  async function poll() {
    try {
      const r = await fetch("/sono/live/sessions", {headers: {"X-Painguide-Page": "1"}});
      if (r.ok) update((await r.json()).sessions);
      else stale(true);
    } catch (e) {
      stale(true);
    } finally {
      setTimeout(poll, 2000);
    }
  }
  // Polled here without an open session, and once the open session is gone (sono-live.js stops asking
  // for its status then).
  let polling = !current;
  window.sonoSessionsPoll = () => {
    if (!polling) { polling = true; poll(); }
  };
  if (!current) setTimeout(poll, 2000);
})();
