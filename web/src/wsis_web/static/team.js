// Project teams' pages, progressive enhancement only: every form works without this file.
(function () {
  "use strict";

  // After a refused save, the summary of problems is where the keyboard starts.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // As the service counts (wsis_shared.text): ICU's words, which Intl.Segmenter gives in any
  // script, a hyphen joining two into one; a browser without it falls back to a simple count.
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter("und", { granularity: "word" }) : null;
  function words(text) {
    if (!segmenter) {
      var found = text.match(/[\p{L}\p{M}\p{N}_'’-]+/gu);
      return found ? found.length : 0;
    }
    var count = 0, before = [];
    for (const part of segmenter.segment(text.normalize("NFC"))) {
      var word = /[\p{L}\p{N}]/u.test(part.segment);
      if (word && !(before.length === 2 && /^[-\u2010\u2011]$/.test(before[1]) && /[\p{L}\p{N}]/u.test(before[0]))) count++;
      before = [before[before.length - 1], part.segment].filter(function (s) { return s !== undefined; });
    }
    return count;
  }

  // The short description's live word count (announced once typing pauses).
  document.querySelectorAll("textarea[data-words]").forEach(function (area) {
    var count = document.getElementById(area.id + "-count");
    if (!count) return;
    count.setAttribute("aria-live", "polite");
    var timer = null;
    function show() {
      var n = words(area.value);
      count.textContent = count.dataset.template.replace("{n}", String(n));
      count.classList.toggle("out", n > 0 && (n < +count.dataset.min || n > +count.dataset.max));
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(show, 400);
    });
  });

  // A field's error, shown (or cleared) in place: aria-invalid and aria-describedby follow it.
  function setError(form, name, message) {
    var box = form.querySelector('[data-field="' + name + '"]');
    if (!box) return;
    var id = "f-" + name + "-error";
    var inputs = box.matches("fieldset") ? box.querySelectorAll("input") : box.querySelectorAll("input, select, textarea");
    var described = box.matches("fieldset") ? [box] : Array.prototype.slice.call(inputs, 0, 1);
    var existing = document.getElementById(id);
    if (message) {
      if (!existing) {
        existing = document.createElement("p");
        existing.className = "field-error";
        existing.id = id;
        var before = box.querySelector("input, select, textarea, .choice-grid");
        before.parentNode.insertBefore(existing, before);
      }
      existing.textContent = message;
      inputs.forEach(function (input) { input.setAttribute("aria-invalid", "true"); });
    } else if (existing) {
      existing.remove();
      inputs.forEach(function (input) { input.removeAttribute("aria-invalid"); });
    }
    described.forEach(function (element) {
      var ids = (element.getAttribute("aria-describedby") || "").split(" ").filter(function (x) { return x && x !== id; });
      if (message) ids.push(id);
      if (ids.length) element.setAttribute("aria-describedby", ids.join(" "));
      else element.removeAttribute("aria-describedby");
    });
  }

  // Autosave: a moment after the last change, the form goes to the page's JSON endpoint, which
  // sends the service only what changed.
  var form = document.querySelector("form[data-autosave]");
  if (form && window.fetch && window.URLSearchParams) {
    var status = document.getElementById("autosave-status");
    var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    var lastSent = new URLSearchParams(new FormData(form)).toString();
    var timer = null;
    var busy = false;
    var again = false;
    function save() {
      var body = new URLSearchParams(new FormData(form)).toString();
      if (body === lastSent) return;
      if (busy) { again = true; return; }
      busy = true;
      status.classList.remove("failed");
      status.textContent = status.dataset.saving;
      fetch(form.dataset.autosave, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
        body: body,
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (answer) {
        lastSent = body;
        (answer.saved || []).forEach(function (name) { setError(form, name, null); });
        Object.keys(answer.errors || {}).forEach(function (name) { setError(form, name, answer.errors[name]); });
        var time = timeFormat.format(new Date(answer.saved_at));
        status.textContent = Object.keys(answer.errors || {}).length
          ? status.dataset.refused
          : status.dataset.saved.replace("{time}", time);
        form.dataset.savedAt = answer.saved_at;
      }).catch(function () {
        status.classList.add("failed");
        status.textContent = status.dataset.failed;
      }).then(function () {
        busy = false;
        if (again) { again = false; save(); }
      });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(save, 1200);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    // Leaving the page saves what is pending (the browser keeps the request alive).
    window.addEventListener("pagehide", function () {
      var body = new URLSearchParams(new FormData(form)).toString();
      if (body !== lastSent && !form.dataset.submitting) {
        fetch(form.dataset.autosave, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" }, body: body, keepalive: true, credentials: "same-origin" });
      }
    });
    form.addEventListener("submit", function () { clearTimeout(timer); form.dataset.submitting = "1"; });
  }

  // Uploads with a progress bar: the file's bytes go to the page's endpoint, which streams them
  // on to the service.
  document.querySelectorAll("form[data-upload]").forEach(function (upload) {
    if (!window.XMLHttpRequest) return;
    var input = upload.querySelector("input[type=file]");
    var box = upload.querySelector(".progress");
    var bar = upload.querySelector("progress");
    var said = upload.querySelector(".upload-status");
    var csrf = upload.querySelector("input[name=csrf]").value;
    function fail(message) {
      box.hidden = true;
      said.textContent = "";
      var error = document.getElementById("file-error");
      if (!error) {
        error = document.createElement("p");
        error.className = "field-error";
        error.id = "file-error";
        input.parentNode.insertBefore(error, input);
      }
      error.textContent = message;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "file-hint file-error");
      input.focus();
      upload.querySelector("button").disabled = false;
    }
    upload.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      if (!file) return; // the server explains that a file is needed
      event.preventDefault();
      if (file.size > +input.dataset.max) { fail(input.dataset.tooBig); return; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action + "?filename=" + encodeURIComponent(file.name));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      box.hidden = false;
      bar.value = 0;
      upload.querySelector("button").disabled = true;
      var lastTenth = -1;
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        upload.dataset.progress = String(percent);
        // Announce every tenth, not every step.
        if (Math.floor(percent / 10) !== lastTenth) {
          lastTenth = Math.floor(percent / 10);
          said.textContent = said.dataset.uploading.replace("{p}", String(percent));
        }
      });
      xhr.addEventListener("load", function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
        if (xhr.status === 201 && answer.next) {
          bar.value = 100;
          window.location.assign(answer.next);
        } else {
          fail(answer.error || input.dataset.failed);
        }
      });
      xhr.addEventListener("error", function () { fail(input.dataset.failed); });
      xhr.send(file);
    });
  });
})();
