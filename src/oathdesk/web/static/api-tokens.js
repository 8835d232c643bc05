// The API tokens page: a "Copy the value" button beside a new token's value (shown once).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    if (!field || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = "Copied.";
      } catch {
        field.select();
        button.textContent = "Select all and copy (Ctrl+C).";
      }
    });
  }
});
