// The portal's own script. Every page works without it; it adds the
// browser's time zone to sign-in and the preference, and moves keyboard
// focus to regions htmx swaps in.
(function () {
  "use strict";

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    if (!headers) {
      return "";
    }
    try {
      return JSON.parse(headers)["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  // Sign-in links carry the browser's time zone, so the first page after
  // sign-in already shows local times.
  function tagSignInLinks(zone) {
    document.querySelectorAll("a[data-signin]").forEach(function (a) {
      var u = new URL(a.getAttribute("href"), window.location.href);
      u.searchParams.set("tz", zone);
      a.setAttribute("href", u.pathname + u.search);
    });
  }

  // A signed-in page drawn in another zone than the browser's, when the user
  // has not chosen one by hand, records the browser's zone and redraws once.
  // The server refuses zones it does not know, which ends the attempt.
  function syncZone(zone) {
    var body = document.body;
    if (body.dataset.tzAuto !== "true" || zone === body.dataset.tz) {
      return;
    }
    var token = csrfToken();
    if (!token) {
      return;
    }
    fetch("/preferences/timezone", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded" },
      body: "auto=1&tz=" + encodeURIComponent(zone),
    }).then(function (resp) {
      if (resp.ok) {
        window.location.reload();
      }
    });
  }

  function start() {
    var zone = browserZone();
    if (zone) {
      tagSignInLinks(zone);
      syncZone(zone);
      document.querySelectorAll("[data-browser-zone]").forEach(function (el) {
        el.textContent = zone;
      });
    }
  }

  // After htmx swaps a region in, focus the element in it marked data-focus,
  // so keyboard and screen reader users land on what changed. An outerHTML
  // swap replaces the target, so the region is looked up again by its id.
  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail.target;
    if (target && target.id && !document.body.contains(target)) {
      target = document.getElementById(target.id);
    }
    if (!target) {
      return;
    }
    var el = target.matches("[data-focus]") ? target : target.querySelector("[data-focus]");
    if (el) {
      el.focus();
    }
  });

  // Folder tree: a toggle shows and hides the subfolders htmx loaded into
  // the element it controls.
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest(".tree-toggle") : null;
    if (!button) {
      return;
    }
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    var sub = document.getElementById(button.getAttribute("aria-controls"));
    if (sub) {
      sub.hidden = !open;
    }
    var mark = button.querySelector("[aria-hidden]");
    if (mark) {
      mark.textContent = open ? "▾" : "▸";
    }
  });

  // Choosing an item in a list marks its row, as a full page load does.
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("table.mail-items a[hx-get]") : null;
    if (!link) {
      return;
    }
    link.closest("table").querySelectorAll("tr.current").forEach(function (tr) {
      tr.classList.remove("current");
    });
    link.closest("tr").classList.add("current");
  });

  // "Select all on this page" checks every checkbox of its name in the form.
  document.addEventListener("change", function (e) {
    var all = e.target;
    if (!all.matches || !all.matches("[data-select-all]")) {
      return;
    }
    var form = all.form;
    if (!form) {
      return;
    }
    form.querySelectorAll('input[type="checkbox"][name="' + all.getAttribute("data-select-all") + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
