// OpenID4VP waiting page: ask the verifier once a second whether the wallet has answered.
(function () {
  "use strict";
  var box = document.getElementById("waiting");
  if (!box) { return; }
  var statusUrl = box.dataset.statusUrl;
  var resultUrl = box.dataset.resultUrl;
  var note = document.getElementById("waiting-note");
  function poll() {
    fetch(statusUrl, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.state === "answered") { window.location.assign(resultUrl); return; }
        if (answer.state === "expired") { note.textContent = box.dataset.sayExpired || "The request expired. Start a new one."; return; }
        if (answer.state === "opened") {
          note.textContent = box.dataset.sayOpened ||
            "A wallet opened the request; waiting for its answer… (if it was not your learner's, start a new one)";
        }
        if (answer.state === "checking") { note.textContent = box.dataset.sayChecking || "The wallet answered; checking…"; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
}());
