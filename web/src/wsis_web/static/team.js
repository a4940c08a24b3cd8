// Project teams' pages, progressive enhancement only: every form works without this file.
(function () {
  "use strict";

  // After a refused save, the summary of problems is where the keyboard starts.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // As the service counts (wsis_shared.text): ICU's words, which Intl.Segmenter gives in any
  // script, a hyphen joining two into one; a browser without it falls back to a simple count.
  // Chromium's segmenter splits at "." and ":" where ICU's rules (UAX #29) do not: letters joined
  // by one of . : ' ’ · ("U.N", "e.g", "www.unesco.org", "don't"), digits by one of , . ; ' ’
  // ("3.14", "1,000") stay one word, chains too.
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter("und", { granularity: "word" }) : null;
  var HYPHEN = /^[-\u2010\u2011]$/;
  var LETTER_JOIN = /^[.:'\u2018\u2019\u00b7\u0387\u055f\u05f4\u2024\u2027\ufe13\ufe52\ufe55\uff07\uff0e\uff1a]$/;
  var NUMBER_JOIN = /^[.,;'\u2018\u2019\u037e\u0589\u060c\u060d\u066c\u07f8\u2024\u2044\ufe10\ufe14\ufe50\ufe52\ufe54\uff07\uff0c\uff0e\uff1b]$/;
  // Letters that ICU joins across . and : (not the scripts it segments by dictionary, nor kana).
  var JOINING_LETTER = /^(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}])[\p{L}\p{M}]$/u;
  var DIGIT = /^\p{Nd}$/u;
  function joins(before, joiner, after) {
    if (HYPHEN.test(joiner)) return true;
    var last = Array.from(before).pop(), first = Array.from(after)[0];
    if (LETTER_JOIN.test(joiner) && JOINING_LETTER.test(last) && JOINING_LETTER.test(first)) return true;
    return NUMBER_JOIN.test(joiner) && DIGIT.test(last) && DIGIT.test(first);
  }
  function words(text) {
    if (!segmenter) {
      var found = text.match(/[\p{L}\p{M}\p{N}_]+(?:[-\u2010\u2011.:,;'\u2019\u00b7][\p{L}\p{M}\p{N}_]+)*/gu);
      return found ? found.length : 0;
    }
    var count = 0, last = null, joiner = null;
    for (const part of segmenter.segment(text.normalize("NFC"))) {
      var segment = part.segment;
      if (/[\p{L}\p{N}]/u.test(segment)) {
        if (!(last !== null && joiner !== null && joins(last, joiner, segment))) count++;
        last = segment;
        joiner = null;
      } else if (last !== null && joiner === null && (HYPHEN.test(segment) || LETTER_JOIN.test(segment) || NUMBER_JOIN.test(segment))) {
        joiner = segment;
      } else {
        last = null;
        joiner = null;
      }
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

  // Autosave: a moment after the last change, the fields the person changed in this tab (and
  // only those: another tab may have saved the others since) go to the page's JSON endpoint,
  // which sends the service what differs from what is stored.
  var form = document.querySelector("form[data-autosave]");
  if (form && window.fetch && window.URLSearchParams) {
    var status = document.getElementById("autosave-status");
    var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    var base = form.querySelector("input[name=base]");
    var dirty = {}; // changed here since their last save (a field changed back still counts)
    var timer = null;
    var busy = false;
    var again = false;
    function valueOf(name) { return new FormData(form).getAll(name).map(String); }
    function bodyOf(names) {
      var params = new URLSearchParams();
      params.append("csrf", form.querySelector("input[name=csrf]").value);
      names.forEach(function (name) {
        params.append("fields", name);
        valueOf(name).forEach(function (value) { params.append(name, value); });
      });
      return params.toString();
    }
    function settle(names, sent, answer) {
      // What was sent and is still on the page is now what is stored: the page's copy of the
      // stored values (for its plain "Save") follows, and the field is no longer pending.
      var copy = {};
      try { copy = JSON.parse(base.value); } catch (e) { copy = {}; }
      names.forEach(function (name) {
        var now = valueOf(name);
        if (JSON.stringify(now) !== sent[name] || (answer.errors || {})[name]) return;
        delete dirty[name];
        copy[name] = form.querySelector('input[type=checkbox][name="' + name + '"]') ? now : (now[0] || "");
      });
      base.value = JSON.stringify(copy);
    }
    function save() {
      var names = Object.keys(dirty);
      if (!names.length) return;
      if (busy) { again = true; return; }
      busy = true;
      var sent = {};
      names.forEach(function (name) { sent[name] = JSON.stringify(valueOf(name)); });
      status.classList.remove("failed");
      status.textContent = status.dataset.saving;
      fetch(form.dataset.autosave, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
        body: bodyOf(names),
        credentials: "same-origin",
        redirect: "manual"
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (response.ok && answer.saved_at) return answer;
          var failure = new Error(String(response.status));
          failure.kind = response.status === 401 ? "signedOut"
            : response.status === 409 && answer.error === "not-a-draft" ? "submittedElsewhere" : "failed";
          throw failure;
        });
      }).then(function (answer) {
        settle(names, sent, answer);
        (answer.saved || []).forEach(function (name) { setError(form, name, null); });
        Object.keys(answer.errors || {}).forEach(function (name) { setError(form, name, answer.errors[name]); });
        var time = timeFormat.format(new Date(answer.saved_at));
        status.textContent = Object.keys(answer.errors || {}).length
          ? status.dataset.refused
          : status.dataset.saved.replace("{time}", time);
        form.dataset.savedAt = answer.saved_at;
      }).catch(function (failure) {
        status.classList.add("failed");
        status.dataset.state = failure.kind || "failed";
        status.textContent = status.dataset[failure.kind || "failed"];
      }).then(function () {
        busy = false;
        if (again) { again = false; save(); }
      });
    }
    function later(event) {
      var name = event.target && event.target.name;
      if (name && name !== "csrf" && name !== "base" && name !== "action") dirty[name] = true;
      clearTimeout(timer);
      timer = setTimeout(save, 1200);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    // Leaving the page saves what is pending (the browser keeps the request alive).
    window.addEventListener("pagehide", function () {
      var names = Object.keys(dirty);
      if (names.length && !form.dataset.submitting) {
        fetch(form.dataset.autosave, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" }, body: bodyOf(names), keepalive: true, credentials: "same-origin" });
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
