// Follows a print run's build without reloading the page: fetches the page again every
// two seconds and swaps in its progress part, until the build is done. Without scripts
// the page refreshes itself (a <noscript> meta refresh) and has a "Làm mới" link.
(function () {
  "use strict";
  var part = document.getElementById("run-progress");
  if (!part || part.getAttribute("data-done") === "1") { return; }
  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("run-progress");
        if (!fresh) { return; }
        part.replaceWith(fresh);
        part = fresh;
        if (fresh.getAttribute("data-done") !== "1") { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
