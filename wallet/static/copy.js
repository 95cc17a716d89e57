// Copy buttons: a button with data-copy="…" puts that text on the clipboard and says so
// (data-copied). Used beside shortened DIDs. No inline script (CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      button.textContent = button.dataset.copied || "Copied";
    });
  });
}());
