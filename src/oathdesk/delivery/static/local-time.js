// Moments in the viewer's time zone: the server writes <time class="when" datetime="...Z"
// title="2026-12-03 19:45 UTC">2026-12-03 19:45 UTC</time> (http/dates.py); this rewrites the
// text to local time in the same format and keeps the UTC title for hovering. Without it the
// page shows UTC. The same file ships with both apps (web/static and delivery/static).
"use strict";
(function () {
  function two(parts, type) {
    var part = parts.find(function (p) { return p.type === type; });
    return part ? part.value : "";
  }
  function localise(root) {
    var format;
    try {
      format = new Intl.DateTimeFormat("en-US", {
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
        hourCycle: "h23", timeZoneName: "short"
      });
    } catch (e) { return; }
    root.querySelectorAll("time.when[datetime]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      var parts = format.formatToParts(moment);
      var zone = two(parts, "timeZoneName");
      el.textContent = two(parts, "year") + "-" + two(parts, "month") + "-" + two(parts, "day") +
        " " + two(parts, "hour") + ":" + two(parts, "minute") + (zone ? " " + zone : "");
      el.setAttribute("data-local", "");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { localise(document); });
  } else {
    localise(document);
  }
})();
