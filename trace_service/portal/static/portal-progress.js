// Follows a print run's build without reloading the page: fetches the page again every
// two seconds and swaps in its progress part, until the build is done. Without scripts
// the page refreshes itself (a <noscript> meta refresh) and has a "Làm mới" link.
// A poll that fails, hangs (a phone's network stalls: given up after 15 s) or comes back
// without the progress part (a sign-in page, a proxy's error) is tried again, never the last.
(function () {
  "use strict";
  var part = document.getElementById("run-progress");
  if (!part || part.getAttribute("data-done") === "1") { return; }
  function poll() {
    var control = typeof AbortController === "function" ? new AbortController() : null;
    var timer = control ? window.setTimeout(function () { control.abort(); }, 15000) : null;
    fetch(window.location.href, {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      signal: control ? control.signal : undefined
    })
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) {
        window.clearTimeout(timer);
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("run-progress");
        if (!fresh) { return Promise.reject("no progress"); }
        // The live region stays, its content changes: a screen reader announces changes
        // inside a region already on the page, not a region put in its place.
        part.innerHTML = fresh.innerHTML;
        part.setAttribute("data-done", fresh.getAttribute("data-done") || "0");
        if (fresh.getAttribute("data-done") !== "1") { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.clearTimeout(timer); window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
