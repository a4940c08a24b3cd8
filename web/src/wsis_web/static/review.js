// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // After a refused form, the list of problems is read first; each links to its field.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // The rubric form: a draft saves itself a few seconds after the reviewer stops typing.
  // Without this file the "Save draft" button does the same.
  var form = document.querySelector("form[data-autosave=on]");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.getElementById("autosave-status");
  var timer = null;
  var sending = false;
  var again = false;

  function say(key) {
    if (status) status.textContent = status.dataset[key] || "";
  }

  function later(delay) {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }

  function save(retry) {
    timer = null;
    if (sending) { again = true; return; }
    sending = true;
    var data = new FormData(form);
    data.set("action", "autosave");
    say("saving");
    // getAttribute: `form.action` would be the buttons named "action".
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "review-autosave" }
    }).then(function (response) {
      if (response.ok) { say("saved"); return; }
      // A service that did not answer in time: one more try before giving up.
      if (response.status >= 500 && !retry) { again = "retry"; return; }
      say("failed");
    }, function () {
      if (!retry) { again = "retry"; return; }
      say("failed");
    }).then(function () {
      sending = false;
      if (again === "retry") { again = false; window.setTimeout(function () { save(true); }, 4000); }
      else if (again) { again = false; save(); }
    });
  }

  form.addEventListener("input", function () { later(3000); });
  form.addEventListener("change", function () { later(3000); });
  // A real submit replaces any pending autosave.
  form.addEventListener("submit", function () {
    if (timer) window.clearTimeout(timer);
    timer = null;
  });
})();
