// Salvo dashboard: the eye icon, copy buttons, confirmations, fields that
// depend on a choice and pages that follow progress. Every page works
// without it except the clipboard.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "sr-only";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  function onCopy(button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) { return; }
    var label = button.querySelector(".copy-label");
    copyText(target.textContent.trim()).then(function () {
      label.textContent = "Copied";
    }, function () {
      // The clipboard is not reachable: select the text for a manual copy.
      var range = document.createRange();
      range.selectNodeContents(target);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      label.textContent = "Press Ctrl+C";
    });
    setTimeout(function () { label.textContent = "Copy"; }, 3000);
  }

  // On a phone the main navigation folds behind the Menu button (app.css
  // folds it only once this script runs: without it the menu stays open).
  document.documentElement.classList.add("js");
  var navToggle = document.getElementById("nav-toggle");
  if (navToggle) {
    navToggle.addEventListener("click", function () {
      var open = navToggle.getAttribute("aria-expanded") !== "true";
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
      document.getElementById("main-nav").classList.toggle("open", open);
    });
  }

  // A details element with data-fold-on-phone (the Logs filters) starts
  // folded on a phone-sized screen; it is open everywhere else.
  if (window.matchMedia("(max-width: 40rem)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-fold-on-phone]"), function (d) { d.open = false; });
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-copy]");
    if (button) { onCopy(button); }
  });

  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

  // A field with data-needs="ID" is used only while the radio button or
  // check box ID is checked: disabled (and not required) otherwise.
  function updateNeeds() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-needs]"), function (el) {
      var on = document.getElementById(el.getAttribute("data-needs"));
      el.disabled = !(on && on.checked);
      el.required = !el.disabled;
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.matches("input[type=radio], input[type=checkbox]")) { updateNeeds(); }
  });
  updateNeeds();

  // A part of a page that is still changing (an import in progress, with
  // data-poll set to a delay in ms) reads itself again until it is done.
  // The element stays, so that its aria-live announcements work.
  function poll(el) {
    setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (resp) {
          if (!resp.ok) { throw new Error("poll: " + resp.status); }
          return resp.text();
        }).then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(el.id);
          if (!fresh) { throw new Error("poll: the part is gone"); }
          el.replaceChildren.apply(el, Array.prototype.slice.call(fresh.childNodes));
          el.setAttribute("data-state", fresh.getAttribute("data-state") || "");
          if (fresh.hasAttribute("data-poll")) { poll(el); } else { el.removeAttribute("data-poll"); }
        }).catch(function () {
          window.location.reload(); // e.g. the session expired: the login form comes up
        });
    }, parseInt(el.getAttribute("data-poll"), 10) || 1000);
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-poll][id]"), poll);

  // A field with data-preview="BUTTON" refreshes a preview as one types:
  // a moment after the last key it submits its form through BUTTON (whose
  // formtarget is the preview's iframe), and once when the page opens.
  var previewTimer = null;
  function refreshPreview(id) {
    var button = document.getElementById(id);
    if (button && button.form) { button.form.requestSubmit(button); }
  }
  document.addEventListener("input", function (ev) {
    var id = ev.target.getAttribute && ev.target.getAttribute("data-preview");
    if (!id) { return; }
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { refreshPreview(id); }, 400);
  });
  var firstPreview = document.querySelector("[data-preview]");
  if (firstPreview) { refreshPreview(firstPreview.getAttribute("data-preview")); }

  // The eye icon (a form.reveal-form): a secret (the primary key, the
  // webhook signing key) is fetched only when asked for, and forgotten
  // again when hidden. The form's data-target is the id of the element
  // that shows it, data-copy the id of its copy button's holder and
  // data-what what the secret is called.
  var masked = "••••••••••••••••••••••••••••••••";
  Array.prototype.forEach.call(document.querySelectorAll("form.reveal-form"), function (form) {
    var button = form.querySelector("button");
    var out = document.getElementById(form.getAttribute("data-target"));
    var copy = document.getElementById(form.getAttribute("data-copy"));
    var what = form.getAttribute("data-what") || "secret";

    function show(key) {
      out.textContent = key;
      button.setAttribute("aria-pressed", "true");
      button.setAttribute("aria-label", "Hide " + what);
      copy.hidden = false;
    }

    function hide() {
      out.textContent = masked;
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", "Show " + what);
      copy.hidden = true;
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (button.getAttribute("aria-pressed") === "true") { hide(); return; }
      button.disabled = true;
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (resp) {
        if (!resp.ok || resp.headers.get("Content-Type").indexOf("application/json") !== 0) {
          throw new Error("reveal failed: " + resp.status);
        }
        return resp.json();
      }).then(function (body) {
        show(body.key);
      }).catch(function () {
        window.location.reload(); // e.g. the session expired: the login form comes up
      }).finally(function () {
        button.disabled = false;
      });
    });
  });
})();
