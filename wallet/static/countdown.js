// Countdown for a shown QR code: reads data-expires-at / data-now (epoch seconds,
// the server's clock) and hides the code when it expires. No inline script (CSP).
(function () {
  "use strict";
  var figure = document.getElementById("qr");
  var label = document.getElementById("countdown");
  if (!figure || !label) { return; }
  var remaining = Number(figure.dataset.expiresAt) - Number(figure.dataset.now);
  var started = Date.now();
  function tick() {
    var left = Math.max(0, Math.round(remaining - (Date.now() - started) / 1000));
    if (left <= 0) {
      label.textContent = "Expired: make a new code";
      figure.classList.add("expired");
      return;
    }
    var seconds = left % 60;
    label.textContent = "Valid for " + Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
    window.setTimeout(tick, 1000);
  }
  tick();
}());
