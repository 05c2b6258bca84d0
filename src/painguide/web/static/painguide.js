// painguide pages: no inline scripts (Content-Security-Policy), so small behaviours live here.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.getAttribute("content") : "";
  // Every same-origin fetch() that changes state carries this browser's CSRF token.
  const plainFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const options = Object.assign({}, init || {});
    const method = (options.method || (input instanceof Request ? input.method : "GET")).toUpperCase();
    const url = new URL(input instanceof Request ? input.url : String(input), window.location.href);
    if (!["GET", "HEAD", "OPTIONS"].includes(method) && url.origin === window.location.origin && token) {
      const headers = new Headers(options.headers || (input instanceof Request ? input.headers : undefined));
      headers.set("X-CSRF-Token", token);
      options.headers = headers;
    }
    return plainFetch(input, options);
  };
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    // A form whose answer takes a while (an upload that is analysed) says so while it waits, with the
    // seconds so far in place of %(seconds)s in its data-busy text, and cannot be sent twice meanwhile.
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      const note = form.querySelector("[data-busy-note]");
      let timer = null;
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
        const started = Date.now();
        const show = function () {
          const seconds = String(Math.floor((Date.now() - started) / 1000));
          if (note) { note.textContent = form.dataset.busy.replace("%(seconds)s", seconds); }
        };
        form.setAttribute("aria-busy", "true");
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        if (note) { note.hidden = false; }
        show();
        timer = window.setInterval(show, 1000);
      });
      window.addEventListener("pageshow", function (event) {  // back to this page from the review
        if (!event.persisted) { return; }
        window.clearInterval(timer);
        form.removeAttribute("aria-busy");
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
        if (note) { note.hidden = true; }
      });
    });
    document.querySelectorAll("a[data-back]").forEach(function (el) {
      el.addEventListener("click", function (event) {
        if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
      });
    });
  });
})();
