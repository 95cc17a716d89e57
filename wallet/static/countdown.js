// Countdown for a shown QR code: reads data-expires-at / data-now (epoch seconds,
// the server's clock) and hides the code when it expires. A one-time link's page
// also asks data-state-url every few seconds: once a verifier has used the link
// (or it was withdrawn), the code is hidden and the page says so and when
// ("Used at 14:02 UTC by a verifier") instead of counting on. No inline script (CSP).
(function () {
  "use strict";
  var figure = document.getElementById("qr");
  var label = document.getElementById("countdown");
  if (!figure || !label) { return; }
  var remaining = Number(figure.dataset.expiresAt) - Number(figure.dataset.now);
  var started = Date.now();
  var over = false;
  var POLL_MS = 3000;

  function finish(text, state) {
    over = true;
    label.textContent = text;
    label.setAttribute("role", "status");
    figure.classList.add(state);
    figure.hidden = true;
  }

  function tick() {
    if (over) { return; }
    var left = Math.max(0, Math.round(remaining - (Date.now() - started) / 1000));
    if (left <= 0) {
      over = true;
      label.textContent = label.dataset.sayExpired || "Expired: make a new code";
      figure.classList.add("expired");
      return;
    }
    var seconds = left % 60;
    var clock = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
    label.textContent = (label.dataset.sayValidFor || "Valid for {time}").replace("{time}", clock);
    window.setTimeout(tick, 1000);
  }

  function poll() {
    if (over || !figure.dataset.stateUrl || !window.fetch) { return; }
    window.fetch(figure.dataset.stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) {
        if (data && data.state && data.state !== "live") {
          finish(data.text, data.state);
        } else {
          window.setTimeout(poll, POLL_MS);
        }
      })
      .catch(function () { window.setTimeout(poll, POLL_MS); });
  }

  tick();
  window.setTimeout(poll, POLL_MS);
}());
