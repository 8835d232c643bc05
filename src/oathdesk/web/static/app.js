// oathdesk console: a little progressive enhancement; every page works without it.
"use strict";
(function () {
  // Move keyboard and screen-reader focus to an error so it is read first.
  document.addEventListener("DOMContentLoaded", function () {
    var error = document.querySelector("[role=alert][tabindex]");
    if (error) { error.focus(); }
  });

  // fetch() for our API from a signed-in page: sends the session's CSRF token on writes.
  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }
  window.oathdesk = {
    api: function (method, path, body) {
      var headers = { "Accept": "application/json" };
      if (method !== "GET" && method !== "HEAD") { headers["X-CSRF-Token"] = csrfToken(); }
      if (body !== undefined) { headers["Content-Type"] = "application/json"; }
      return fetch(path, {
        method: method, headers: headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body)
      }).then(function (response) {
        if (response.status === 204) { return null; }
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error(data.error ? data.error.message : response.statusText); }
          return data;
        });
      });
    }
  };
  // Import job page: poll the job's API twin and move the <progress> bar until the push ends.
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("import-job");
    if (!box || box.getAttribute("data-state") !== "running") { return; }
    var bar = document.getElementById("import-progress");
    var status = document.getElementById("import-status");
    function poll() {
      window.oathdesk.api("GET", box.getAttribute("data-job-url")).then(function (job) {
        bar.max = Math.max(job.total, 1);
        bar.value = job.total ? job.done : 1;
        bar.textContent = job.percent + " %";
        if (job.state === "running") {
          status.textContent = job.done + " of " + job.total + " sent (" + job.percent + " %).";
          window.setTimeout(poll, 1000);
        } else if (job.state === "done") {
          status.textContent = "Done: " + job.done + " of " + job.total + " sent (100 %).";
        } else {
          status.textContent = "Stopped: " + job.error;
        }
        box.setAttribute("data-state", job.state);
      }).catch(function (error) {
        status.textContent = "Could not read the progress (" + error.message + "); reload the page.";
      });
    }
    window.setTimeout(poll, 500);
  });
  // Inventory: a "select every token on this page" box (the per-row boxes work without it).
  document.addEventListener("DOMContentLoaded", function () {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    var picks = Array.prototype.slice.call(document.querySelectorAll("input.pick"));
    all.hidden = false;
    all.addEventListener("change", function () {
      picks.forEach(function (box) { box.checked = all.checked; });
    });
    picks.forEach(function (box) {
      box.addEventListener("change", function () {
        var chosen = picks.filter(function (b) { return b.checked; }).length;
        all.checked = chosen === picks.length;
        all.indeterminate = chosen > 0 && chosen < picks.length;
      });
    });
  });
})();

// The menu (kit/layout.html): a browser without ::details-content would keep the navigation
// folded on a wide screen, where its "Menu" summary is hidden; open it there instead.
document.addEventListener("DOMContentLoaded", function () {
  var menu = document.querySelector("details.menu");
  if (!menu || !window.CSS || CSS.supports("selector(::details-content)")) { return; }
  var wide = window.matchMedia("(min-width: 48.01rem)");
  function follow() { menu.open = wide.matches; }
  follow();
  wide.addEventListener("change", follow);
});
