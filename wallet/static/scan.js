// Camera scanning with the vendored jsQR: decode frames, put the text in the form, submit.
(function () {
  "use strict";
  var video = document.getElementById("camera");
  var canvas = document.getElementById("frame");
  var status = document.getElementById("camera-status");
  var field = document.getElementById("scanned");
  var form = document.getElementById("scan-form");
  if (!video || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof jsQR !== "function") {
    if (status) { status.textContent = "No camera here: paste the link instead."; }
    return;
  }
  var context = canvas.getContext("2d", { willReadFrequently: true });
  function frame() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        field.value = code.data;
        status.textContent = "Code found.";
        video.srcObject.getTracks().forEach(function (track) { track.stop(); });
        form.submit();
        return;
      }
    }
    window.requestAnimationFrame(frame);
  }
  navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
    video.srcObject = stream;
    video.play();
    status.textContent = "Looking for a code…";
    window.requestAnimationFrame(frame);
  }).catch(function () {
    status.textContent = "The camera is not available: paste the link instead.";
  });
}());
