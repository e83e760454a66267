// kurz public statistics page: draws the daily chart from the numbers table (#series).
// Plain script, no dependencies; every value is read from data attributes and written
// with textContent or SVG attributes, never as HTML.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(node);
    return node;
  }

  // The axis top: four equal steps of a "round" whole number (1, 2 or 5 times a power
  // of ten), so every tick label is a whole number of clicks.
  function niceMax(v) {
    var raw = Math.max(v, 1) / 4;
    var p = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      var step = Math.max(1, steps[i] * p);
      if (step >= raw) return step * 4;
    }
    return 40 * p;
  }

  function label(day) {
    var parts = day.split("-");
    return MONTHS[Number(parts[1]) - 1] + " " + Number(parts[2]);
  }

  function readSeries() {
    var rows = document.querySelectorAll("#series tbody tr");
    return Array.prototype.map.call(rows, function (r) {
      return { day: r.dataset.day, clicks: Number(r.dataset.clicks), visitors: Number(r.dataset.visitors) };
    });
  }

  function draw(host, data) {
    while (host.firstChild) host.removeChild(host.firstChild);
    var width = Math.max(host.clientWidth, 280);
    var height = width < 520 ? 220 : 300;
    var pad = { top: 10, right: 8, bottom: 26, left: 40 };
    var plotW = width - pad.left - pad.right;
    var plotH = height - pad.top - pad.bottom;
    var peak = 0;
    data.forEach(function (d) { peak = Math.max(peak, d.clicks, d.visitors); });
    var max = niceMax(peak);
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height,
                          "data-max": max, "data-plot-height": plotH }, host);
    for (var i = 0; i <= 4; i++) {
      var y = pad.top + plotH - (plotH * i) / 4;
      el("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid-line" }, svg);
      var t = el("text", { x: pad.left - 8, y: y + 4, "text-anchor": "end", class: "axis-label" }, svg);
      t.textContent = String((max / 4) * i);
    }
    var slot = plotW / data.length;
    var barW = Math.max(2, Math.min(28, slot * 0.62));
    var scale = plotH / max;
    var points = [];
    var every = Math.ceil(data.length / Math.max(2, Math.floor(plotW / 70)));
    var tip = document.createElement("div");
    tip.className = "tip";
    host.appendChild(tip);
    data.forEach(function (d, idx) {
      var cx = pad.left + slot * idx + slot / 2;
      var h = d.clicks * scale;
      el("rect", { x: cx - barW / 2, y: pad.top + plotH - h, width: barW, height: h, rx: Math.min(3, barW / 3),
                   class: "bar", "data-day": d.day, "data-value": d.clicks }, svg);
      points.push([cx, pad.top + plotH - d.visitors * scale, d]);
      if (idx % every === 0) {
        var xl = el("text", { x: cx, y: height - 6, "text-anchor": "middle", class: "axis-label" }, svg);
        xl.textContent = label(d.day);
      }
    });
    el("polyline", { points: points.map(function (p) { return p[0] + "," + p[1]; }).join(" "), class: "line" }, svg);
    points.forEach(function (p) {
      el("circle", { cx: p[0], cy: p[1], r: Math.max(1.5, Math.min(3.5, slot / 4)), class: "dot",
                     "data-day": p[2].day, "data-value": p[2].visitors }, svg);
    });
    points.forEach(function (p) {
      var hit = el("rect", { x: p[0] - slot / 2, y: pad.top, width: slot, height: plotH, class: "hit" }, svg);
      hit.addEventListener("pointerenter", function () {
        tip.textContent = label(p[2].day) + ": " + p[2].clicks + " clicks, " + p[2].visitors + " visitors";
        tip.style.left = (p[0] / width) * 100 + "%";
        tip.style.top = Math.min(p[1], pad.top + plotH - p[2].clicks * scale) - 6 + "px";
        tip.classList.add("on");
      });
      hit.addEventListener("pointerleave", function () { tip.classList.remove("on"); });
    });
    host.setAttribute("data-drawn", String(data.length));
  }

  function start() {
    var host = document.getElementById("chart");
    if (!host) return;
    var data = readSeries();
    if (!data.length) return;
    draw(host, data);
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) window.clearTimeout(pending);
      pending = window.setTimeout(function () { draw(host, data); }, 120);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
