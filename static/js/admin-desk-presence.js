// A soft lock on the revision page: every few seconds tell the server this editor still has the draft open,
// and show who else has (monographs/presence.py).  It only informs; nothing here stops anyone editing.
(function () {
  "use strict";
  var box = document.getElementById("desk-presence");
  var token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (!box || !token || !window.fetch) return;
  var every = (parseInt(box.getAttribute("data-every"), 10) || 30) * 1000;

  function show(others) {
    while (box.firstChild) box.removeChild(box.firstChild);
    others.forEach(function (other) {
      var line = document.createElement("p");
      line.className = "desk-notice";
      line.textContent = other.text;
      box.appendChild(line);
    });
  }

  function beat() {
    fetch(box.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token.value, Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.others) show(data.others);
      })
      .catch(function () {
        /* offline or the server is busy: the notice stays as it was */
      });
  }

  window.setInterval(beat, every);
})();
