// opsdeck live tiles. Pages are complete without this file: it only listens
// to /events and, when the projection changes, re-fetches each tile's HTML
// fragment (data-src) and swaps it in. No inline script, no build step.
(function () {
  "use strict";
  if (!window.EventSource || !document.querySelector("[data-tile]")) return;
  var pending = false;
  function refresh() {
    if (pending) return;
    pending = true;
    var tiles = Array.prototype.slice.call(document.querySelectorAll("[data-tile]"));
    Promise.all(tiles.map(function (tile) {
      return fetch(tile.getAttribute("data-src"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var box = document.createElement("div");
          box.innerHTML = html;
          var fresh = box.firstElementChild;
          if (fresh && fresh.getAttribute("data-tile") === tile.getAttribute("data-tile")) {
            tile.replaceWith(fresh);
          }
        })
        .catch(function () { /* the next change tries again */ });
    })).then(function () {
      pending = false;
      document.body.setAttribute("data-live-seq", String(lastSeq));
    });
  }
  var lastSeq = "";
  var source = new EventSource("/events");
  source.addEventListener("hello", function (e) {
    lastSeq = e.data;
    document.body.setAttribute("data-live", "connected");
  });
  source.addEventListener("changed", function (e) {
    lastSeq = e.data;
    refresh();
  });
  // A minute without news: refresh anyway, so "synced N min ago" stays true.
  setInterval(refresh, 60000);
})();
