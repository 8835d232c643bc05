// Inventory page: say how many tokens are selected for the bulk bar (the form works without it).
"use strict";
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var count = document.getElementById("bulk-count");
    var form = document.getElementById("bulk");
    if (!count || !form) { return; }
    function update() {
      var n = form.querySelectorAll("input.pick:checked").length;
      count.textContent = n === 1 ? "(1 selected)" : "(" + n + " selected)";
    }
    count.hidden = false;
    form.addEventListener("change", update);
    update();
  });
})();
