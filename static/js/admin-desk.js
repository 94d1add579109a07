// The revision page keeps an editor's unsaved work: a warning before leaving with unsaved changes, and a
// copy of the typed text in this browser's local storage, offered back after a reload or a crash.
//
// The copy is keyed by revision and by the version the form was opened at
// ("drugref:draft:<revision>:<version>").  Restoring a copy made against an older version puts that old
// version back in the form, so saving it meets the server's version check and its merge view instead of
// silently overwriting what someone else saved since.  A successful save clears the copies: the form's
// submit notes which key it was saving, and the next admin page clears it unless it shows the form's errors.
(function () {
  "use strict";
  var PREFIX = "drugref:draft:";
  var SAVING = "drugref:saving";
  var store, session;
  try {
    store = window.localStorage;
    session = window.sessionStorage;
    store.getItem(PREFIX); // throws when storage is disabled
  } catch (error) {
    return; // no storage (private mode, policy): the leave-page warning below needs none, but keep it simple
  }

  function entriesFor(revision) {
    var found = [];
    for (var i = 0; i < store.length; i++) {
      var key = store.key(i);
      var parts = key && key.indexOf(PREFIX + revision + ":") === 0 ? key.split(":") : null;
      if (parts && parts.length === 4) found.push({ key: key, version: parseInt(parts[3], 10) });
    }
    return found;
  }

  // After a submit: clear the copies it saved, unless this page is the form again with its errors.
  var saving = null;
  try {
    saving = JSON.parse(session.getItem(SAVING) || "null");
  } catch (error) {
    saving = null;
  }
  session.removeItem(SAVING);
  var failed = document.querySelector("#revision_form .errornote, #desk-merge");
  if (saving && !failed && Date.now() - saving.at < 5 * 60 * 1000) {
    entriesFor(saving.revision).forEach(function (entry) {
      if (entry.version <= saving.version) store.removeItem(entry.key);
    });
  }

  var form = document.getElementById("revision_form");
  var desk = document.getElementById("desk");
  var versionInput = form && form.querySelector("input[name=expected_version]");
  if (!form || !desk || !versionInput || !form.querySelector("textarea[name=body]")) return;
  var revision = desk.getAttribute("data-revision");
  var version = parseInt(versionInput.value, 10) || 0;
  var key = PREFIX + revision + ":" + version;

  function fields() {
    return Array.prototype.filter.call(form.querySelectorAll("textarea[name], input[name]"), function (el) {
      var type = (el.getAttribute("type") || "text").toLowerCase();
      return el.tagName === "TEXTAREA" || type === "text" || type === "number" || type === "url";
    });
  }

  function values() {
    var out = {};
    fields().forEach(function (el) {
      out[el.name] = el.value;
    });
    return out;
  }

  var loaded = JSON.stringify(values());
  var dirty = false;
  var submitting = false;
  var timer = null;

  function keep() {
    timer = null;
    var now = values();
    if (JSON.stringify(now) === loaded) return;
    try {
      store.setItem(key, JSON.stringify({ at: Date.now(), version: version, fields: now }));
    } catch (error) {
      /* storage full: the leave-page warning still protects the text */
    }
  }

  form.addEventListener("input", function () {
    dirty = true;
    if (timer === null) timer = window.setTimeout(keep, 500);
  });
  form.addEventListener("change", function () {
    dirty = true;
  });
  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return; // refused before sending (admin-table-grid.js): still unsaved
    submitting = true;
    if (timer !== null) {
      window.clearTimeout(timer);
      keep();
    }
    var saved = parseInt(versionInput.value, 10) || 0;
    session.setItem(SAVING, JSON.stringify({ revision: revision, version: saved, at: Date.now() }));
  });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty || submitting) return undefined;
    event.preventDefault();
    event.returnValue = ""; // browsers show their own wording
    return "";
  });

  // Offer back the newest copy made at this version or before, if it differs from what the form holds;
  // never beside the merge view, which already holds this editor's text.
  if (document.getElementById("desk-merge")) return;
  var current = values();
  function differs(kept) {
    return Object.keys(kept).some(function (name) {
      return Object.prototype.hasOwnProperty.call(current, name) && current[name] !== kept[name];
    });
  }
  var offers = entriesFor(revision)
    .filter(function (entry) {
      return entry.version <= version;
    })
    .map(function (entry) {
      try {
        return { key: entry.key, version: entry.version, data: JSON.parse(store.getItem(entry.key)) };
      } catch (error) {
        return null;
      }
    })
    .filter(function (offer) {
      return offer && offer.data && offer.data.fields && differs(offer.data.fields);
    })
    .sort(function (a, b) {
      return b.data.at - a.data.at;
    });
  if (!offers.length) return;
  var offer = offers[0];
  var at = new Date(offer.data.at);
  var hhmm = ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2);

  var box = document.createElement("div");
  box.id = "desk-recovery";
  box.className = "desk-notice";
  box.setAttribute("role", "status");
  var text = document.createElement("p");
  text.textContent =
    "This browser kept text you had not saved (" +
    hhmm +
    ")" +
    (offer.version < version ? ", typed before someone else saved this draft: saving it will show both to merge." : ".");
  var restore = document.createElement("button");
  restore.type = "button";
  restore.className = "button default";
  restore.textContent = "Restore your unsaved text from " + hhmm;
  var discard = document.createElement("button");
  discard.type = "button";
  discard.className = "button";
  discard.textContent = "Discard";
  box.appendChild(text);
  box.appendChild(restore);
  box.appendChild(document.createTextNode(" "));
  box.appendChild(discard);
  desk.appendChild(box);

  restore.addEventListener("click", function () {
    fields().forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(offer.data.fields, el.name) && el.name !== "expected_version") {
        el.value = offer.data.fields[el.name];
        el.dispatchEvent(new Event("input", { bubbles: true })); // the live preview and the table grids follow
      }
    });
    versionInput.value = String(offer.version); // an older copy must meet the version check
    if (offer.key !== key) store.removeItem(offer.key);
    key = PREFIX + revision + ":" + offer.version;
    version = offer.version;
    keep();
    dirty = true;
    box.remove();
  });
  discard.addEventListener("click", function () {
    offers.forEach(function (o) {
      store.removeItem(o.key);
    });
    box.remove();
  });
})();
