// Railyard web UI: live updates and the overview filter. The pages work
// without this script; it only keeps them current and saves a click.
//
// Live: the server sends the newest event id over Server-Sent Events
// (/events) on every commit. When it is newer than the page's, the script
// fetches the same URL with the header X-Railyard-Live: 1, gets only the
// live region (#live) back, and swaps it in. It never throws away what
// someone is typing: while a form in the live region is being edited, it
// shows a "Show changes" notice instead.
"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live) return;
  var current = Number(live.dataset.event || 0);
  var latest = current;
  var busy = false;
  // pending is the refresh asked for while one ran: "force", "auto" or "".
  var pending = "";
  // A page answered to a POST (a form sent back with errors, a blocked
  // deploy) has no URL to fetch again: it only says that it is stale.
  var refreshable = live.dataset.live !== "";
  var stale = document.getElementById("stale");

  function editing() {
    var el = document.activeElement;
    if (el && live.contains(el) && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) return true;
    var fields = live.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden") continue;
      if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked !== f.defaultChecked) return true;
      } else if (f.tagName === "SELECT") {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) return true;
        }
      } else if (f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  // focusIndex remembers which focusable element of the live region had
  // the focus, so that a keyboard user keeps their place.
  var focusable = "a[href], button, input, select, textarea, [tabindex]";
  function focusIndex() {
    var el = document.activeElement;
    if (!el || !live.contains(el)) return -1;
    return Array.prototype.indexOf.call(live.querySelectorAll(focusable), el);
  }

  function swap(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var fresh = tpl.content.getElementById("live");
    if (!fresh) return;
    var open = [];
    live.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
    var idx = focusIndex();
    live.replaceWith(fresh);
    live = fresh;
    open.forEach(function (id) {
      var d = document.getElementById(id);
      if (d) d.open = true;
    });
    if (idx >= 0) {
      var el = live.querySelectorAll(focusable)[idx];
      if (el) el.focus({ preventScroll: true });
    }
    current = Number(live.dataset.event || 0);
    document.dispatchEvent(new CustomEvent("railyard:refreshed", { detail: { event: current } }));
  }

  function refresh(force) {
    if (!refreshable) {
      if (latest > current) stale.hidden = false;
      return;
    }
    if (busy) { if (pending !== "force") pending = force ? "force" : "auto"; return; }
    if (!force && editing()) { stale.hidden = false; return; }
    busy = true;
    stale.hidden = true;
    // The overview renders as many rows as the page has loaded.
    var rows = String(document.querySelectorAll("#grid tbody tr:not(.more)").length);
    fetch(location.href, { headers: { "X-Railyard-Live": "1", "X-Railyard-Rows": rows }, credentials: "same-origin", cache: "no-store" })
      .then(function (res) { return res.ok || res.status === 404 ? res.text() : Promise.reject(res.status); })
      .then(swap)
      .catch(function () { /* the next event tries again */ })
      .then(function () {
        busy = false;
        var next = pending;
        pending = "";
        if (next === "force") refresh(true);
        else if (next || latest > current) refresh(false);
      });
  }

  document.getElementById("stale-refresh").addEventListener("click", function () {
    if (refreshable) refresh(true); else location.assign(live.dataset.canonical || "/");
  });
  document.addEventListener("focusout", function () {
    // Leaving a form that held back an update: apply it if nothing is edited.
    setTimeout(function () { if (!stale.hidden && refreshable && !editing()) refresh(false); }, 0);
  });

  if (window.EventSource) {
    var source = new EventSource("/events");
    source.onmessage = function (e) {
      var id = Number(e.data);
      if (id > latest) latest = id;
      if (latest > current) refresh(false);
    };
  }

  // The overview filter: search as you type, keep the filter in the URL.
  var filter = document.getElementById("overview-filter");
  if (filter) {
    var timer = 0;
    var apply = function () {
      var params = new URLSearchParams();
      new FormData(filter).forEach(function (value, key) { if (value) params.set(key, value); });
      var qs = params.toString();
      history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
      refresh(true);
    };
    filter.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
    filter.addEventListener("change", function () { clearTimeout(timer); apply(); });
    filter.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); apply(); });
  }

  // The overview's remaining rows, loaded in chunks as the grid scrolls
  // toward the row that stands for them (whose link, without the script,
  // shows every row).
  function loadMore() {
    var row = document.querySelector("#grid tr.more");
    var wrap = row && row.closest(".grid-wrap");
    if (!wrap || !window.IntersectionObserver) return;
    var watch = new IntersectionObserver(function (entries) {
      if (!entries.some(function (e) { return e.isIntersecting; })) return;
      watch.disconnect();
      fetch(row.dataset.more, { credentials: "same-origin", cache: "no-store" })
        .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
        .then(function (html) {
          if (!row.isConnected) return; // a live refresh replaced the grid
          var tpl = document.createElement("template");
          tpl.innerHTML = "<table><tbody>" + html + "</tbody></table>";
          row.replaceWith.apply(row, Array.prototype.slice.call(tpl.content.querySelector("tbody").children));
          loadMore();
        })
        .catch(function () { /* the row's link still shows every row */ });
    }, { root: wrap, rootMargin: "2000px 0px" });
    watch.observe(row);
  }
  loadMore();
  document.addEventListener("railyard:refreshed", loadMore);

  // A blocked deploy: move the focus to what needs a decision.
  var blocked = document.getElementById("blocked-title");
  if (blocked) blocked.focus();
})();
