// Show only the parts of the options form that the current choices use (the form works without).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("options");
  if (!form) return;
  const update = () => {
    const fmt = form.elements.namedItem("format").value;
    const enc = (form.querySelector('input[name="encryption"]:checked') || {}).value || "";
    const builder = document.getElementById("builder");
    if (builder) builder.hidden = fmt !== "custom-csv";
    for (const part of form.querySelectorAll("[data-shown-for-encryption]")) {
      part.hidden = !part.dataset.shownForEncryption.split(" ").includes(enc);
    }
  };
  form.addEventListener("change", update);
  update();
});

// A form answered with an error: move focus to the message so it is read out first.
document.addEventListener("DOMContentLoaded", () => {
  const alert = document.getElementById("form-error");
  if (alert) alert.focus();
});

// The download form: a file answer leaves this page as it was, so the error of an earlier wrong
// password would stay on screen after the right one downloaded. Clear it as the form is sent; a
// wrong password again answers with a fresh page and its own error.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("download-form");
  if (!form) return;
  form.addEventListener("submit", () => {
    const alert = document.getElementById("form-error");
    if (alert) alert.remove();
    form.removeAttribute("aria-describedby");
    const sent = document.getElementById("download-sent");
    if (sent) sent.hidden = false;
  });
});

// The menu (kit/layout.html): a browser without ::details-content would keep the navigation
// folded on a wide screen, where its "Menu" summary is hidden; open it there instead.
document.addEventListener("DOMContentLoaded", () => {
  const menu = document.querySelector("details.menu");
  if (!menu || !window.CSS || CSS.supports("selector(::details-content)")) return;
  const wide = window.matchMedia("(min-width: 48.01rem)");
  const follow = () => { menu.open = wide.matches; };
  follow();
  wide.addEventListener("change", follow);
});
