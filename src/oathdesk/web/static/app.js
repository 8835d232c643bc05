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
})();
