// Hand-out progress: poll the job's status while it runs and move the progress element; the
// page reloads once at the end so its tables show every row's outcome.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("handout-job");
    if (!box) { return; }
    var state = box.getAttribute("data-state");
    if (state !== "running" && state !== "pending") { return; }
    var bar = document.getElementById("handout-progress");
    var status = document.getElementById("handout-status");
    function poll() {
      fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("status " + answer.status); }
          return answer.json();
        })
        .then(function (job) {
          bar.max = Math.max(job.total, 1);
          bar.value = job.total ? job.finished : 1;
          bar.textContent = job.percent + " %";
          if (job.state === "running" || job.state === "pending") {
            status.textContent = job.finished + " of " + job.total + " rows finished (" + job.percent + " %).";
            window.setTimeout(poll, 1000);
          } else {
            window.location.reload();
          }
        })
        .catch(function (error) {
          status.textContent = "Could not read the progress (" + error.message + "). Reload the page.";
        });
    }
    window.setTimeout(poll, 500);
  });
}());
