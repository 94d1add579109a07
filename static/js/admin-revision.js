// The revision page's schedule form: times are typed in the editor's own time zone, which the label names.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return; // the server's zone stays in the form and the label
  }
  var field = document.getElementById("wf-time-zone");
  var label = document.getElementById("wf-time-zone-name");
  if (zone && field && label) {
    field.value = zone;
    label.textContent = zone;
  }
})();
