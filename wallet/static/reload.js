/* Reloads a page that still shows credentials being checked (wallet.freshness) after data-reload-after seconds,
   unless the learner stops it: the Stop button, or any key or click on the page first (WCAG 2.1 success
   criterion 2.2.1, Timing Adjustable). Without this script the page does not reload; its link shows the result. */
(function () {
  "use strict";
  var note = document.querySelector("[data-reload-after]");
  if (!note) { return; }
  var stopButton = note.querySelector("[data-reload-stop]");
  var said = note.querySelector("[data-reload-said]");
  var timer = window.setTimeout(function () { window.location.reload(); },
                                1000 * Number(note.getAttribute("data-reload-after")));

  function stop(event) {
    if (timer === null) { return; }
    window.clearTimeout(timer);
    timer = null;
    said.textContent = note.getAttribute("data-stopped");
    stopButton.hidden = true;
    if (event && event.currentTarget === stopButton) { note.querySelector("a").focus(); }
  }

  stopButton.hidden = false;
  stopButton.addEventListener("click", stop);
  document.addEventListener("keydown", stop);
  document.addEventListener("pointerdown", function (event) {
    if (event.target !== stopButton) { stop(); }
  });
}());
