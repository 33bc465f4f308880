// "Verify now" progress: the page works without this (a refresh shows how far it got); with
// it, the bar moves every half second and the result appears when the run ends. Text goes in
// through textContent only.
(function () {
  "use strict";
  var box = document.getElementById("verify-status");
  var runId = box && box.getAttribute("data-run");
  if (!runId || !window.fetch) { return; }
  function poll() {
    fetch("/ig/integrity/runs/" + encodeURIComponent(runId) + ".json", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        var bar = document.getElementById("verify-progress");
        var words = document.getElementById("verify-words");
        if (!run.finished) {
          if (bar) { bar.value = run.percent; bar.textContent = run.percent + "%"; }
          if (words) { words.textContent = "Verifying: " + run.done + " of " + run.total + " records checked."; }
          window.setTimeout(poll, 500);
          return;
        }
        window.location.reload();  // the server draws the result, as without JavaScript
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  poll();
}());
