// The result page's "Print receipt" button.
(function () {
  "use strict";
  var button = document.getElementById("print-receipt");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
}());
