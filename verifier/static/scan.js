// Camera scanning with the vendored jsQR: read frames, decode, submit the text to /verify.
(function () {
  "use strict";
  var video = document.getElementById("camera");
  var canvas = document.getElementById("frame");
  var status = document.getElementById("camera-status");
  var button = document.getElementById("start-camera");
  var form = document.getElementById("scan-form");
  var field = document.getElementById("scanned");
  if (!video || !button) { return; }
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var done = false;

  function tick() {
    if (done) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA && video.videoWidth > 0) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        done = true;
        status.textContent = "QR code read; checking…";
        field.value = code.data;
        var stream = video.srcObject;
        if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
        form.submit();
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = "This browser cannot use the camera here; upload a photo or paste instead.";
      return;
    }
    status.textContent = "Starting the camera…";
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        return video.play();
      })
      .then(function () {
        status.textContent = "Hold the QR code in view.";
        window.requestAnimationFrame(tick);
      })
      .catch(function (error) {
        status.textContent = "The camera could not be started (" + error.name + "); upload a photo or paste instead.";
      });
  }

  button.addEventListener("click", start);
  if (document.body.dataset.autostart === "1" || window.location.hash === "#camera") { start(); }
}());
