// The one QR scanner of the wallet and the verifier (served by both at /static/shared/scan.js).
// Camera frames are decoded in the browser with the vendored jsQR (vendor/jsqr, loaded before
// this file); the text read goes into the page's form, which is submitted. No inline script:
// each page configures its scanner with data- attributes on one element, and marks the parts:
//
//   <section data-qr-scanner                 the scanner; everything below lives inside it
//            data-autostart="1"              start the camera on load (otherwise: on the start
//                                            button, or when the address ends in #<video id>)
//            data-fallback="paste …"         what to do instead, said when there is no camera
//            data-say-no-camera / -refused / -in-use / -failed
//                                            when the camera cannot be started, by cause (plain words,
//                                            never the browser's exception name; see CAMERA_CAUSES)
//            data-inversion="attemptBoth">   jsQR's inversionAttempts (attemptBoth: also light
//                                            codes on dark; dontInvert: faster)
//     <video data-scan-video>  <canvas data-scan-canvas hidden>  <p data-scan-status>
//     <button type="button" data-scan-start>   (optional)
//     <form data-scan-form> … <input data-scan-field> … </form>
(function () {
  "use strict";
  var INVERSIONS = ["attemptBoth", "dontInvert", "onlyInvert", "invertFirst"];
  // Why getUserMedia failed, from the DOMException's name (Media Capture and Streams, section 10; the older
  // Chrome names too): no camera, permission refused, camera in use; any other name is the generic sentence.
  var CAMERA_CAUSES = {
    NotFoundError: "NoCamera", DevicesNotFoundError: "NoCamera", OverconstrainedError: "NoCamera",
    NotAllowedError: "Refused", PermissionDeniedError: "Refused", SecurityError: "Refused",
    NotReadableError: "InUse", TrackStartError: "InUse", AbortError: "InUse"
  };

  function scanner(root) {
    var video = root.querySelector("[data-scan-video]");
    var canvas = root.querySelector("[data-scan-canvas]");
    var status = root.querySelector("[data-scan-status]");
    var button = root.querySelector("[data-scan-start]");
    var form = root.querySelector("[data-scan-form]");
    var field = root.querySelector("[data-scan-field]");
    var fallback = root.dataset.fallback || "paste instead";
    // The page's sentences in its language (data-say-*, infra/i18n.py); English when a page gives none.
    function words(name, english) { return root.dataset[name] || english; }
    var inversion = INVERSIONS.indexOf(root.dataset.inversion) >= 0 ? root.dataset.inversion : "attemptBoth";
    var started = false;
    var done = false;

    function say(text) { if (status) { status.textContent = text; } }

    // The sentence for a camera that cannot be started: its cause in plain words, and what to do instead.
    function cameraFailed(name) {
      var cause = Object.prototype.hasOwnProperty.call(CAMERA_CAUSES, name) ? CAMERA_CAUSES[name] : "";
      if (cause === "NoCamera") { return words("sayNoCamera", "No camera was found on this device: " + fallback + "."); }
      if (cause === "Refused") {
        return words("sayRefused", "The browser was not given permission to use the camera (allow it in the " +
                     "site's settings and press the button again), or " + fallback + ".");
      }
      if (cause === "InUse") {
        return words("sayInUse", "The camera is in use by another app or tab (close it and press the button " +
                     "again), or " + fallback + ".");
      }
      // a page's older sentence may hold "({error})": the exception's name is never shown
      return words("sayFailed", "The camera could not be started: " + fallback + ".").replace(/ ?\(\{error\}\)/, "");
    }

    function stop() {
      var stream = video.srcObject;
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    }

    function tick(context) {
      if (done) { return; }
      if (video.readyState === video.HAVE_ENOUGH_DATA && video.videoWidth > 0) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = jsQR(image.data, image.width, image.height, { inversionAttempts: inversion });
        if (code && code.data) {
          done = true;
          say(words("sayRead", "Code read; opening it…"));
          field.value = code.data;
          stop();
          form.submit();
          return;
        }
      }
      window.requestAnimationFrame(function () { tick(context); });
    }

    function start() {
      if (started) { return; }
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        say(words("sayUnsupported", "This browser cannot use the camera here: " + fallback + "."));
        return;
      }
      started = true;
      say(words("sayStarting", "Starting the camera…"));
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (stream) {
          video.srcObject = stream;
          return video.play();
        })
        .then(function () {
          root.classList.add("scanning");  // the camera's view is shown only now (no black box before)
          say(words("sayHold", "Hold the QR code in view."));
          var context = canvas.getContext("2d", { willReadFrequently: true });
          window.requestAnimationFrame(function () { tick(context); });
        })
        .catch(function (error) {
          started = false;
          root.classList.remove("scanning");
          stop();
          say(cameraFailed(error && error.name));
        });
    }

    if (!video || !canvas || !form || !field) { return; }
    if (typeof jsQR !== "function") {
      say(words("sayNoReader", "The code reader did not load: " + fallback + "."));
      if (button) { button.disabled = true; }
      return;
    }
    if (button) { button.addEventListener("click", start); }
    if (root.dataset.autostart === "1" || (video.id && window.location.hash === "#" + video.id)) { start(); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-qr-scanner]"), scanner);
}());
