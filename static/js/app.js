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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
