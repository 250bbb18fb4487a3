/// The flamegraph's style and script, inlined into every SVG so the file works offline and alone.
///
/// The script reads the boxes the writer drew: each frame is a `<g class="f">` with its sample interval
/// (`data-x`, `data-n`) and depth (`data-d`), a `<title>` whose first line is the frame's name, a `<rect>` and a
/// `<text>`. Zooming maps the chosen frame's interval onto the full width; ancestors stay, faded, at full width;
/// frames outside the interval are hidden. The URL fragment `#zoom=<frame id or name>&search=<regex>` applies a
/// view on load, so a view can be shared and a headless browser can show it.
enum FlamegraphScript {
    static let css = """
        text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; fill: #000; }
        .background { fill: #f6f6f2; }
        #title { font-size: 17px; text-anchor: middle; }
        #subtitle { fill: #555; text-anchor: middle; }
        #search, #matched { text-anchor: end; }
        .button { fill: #1c57a8; cursor: pointer; text-decoration: underline; }
        #reset { visibility: hidden; }
        g.f { cursor: pointer; }
        g.f text { pointer-events: none; }
        g.f:hover rect { stroke: #222; stroke-width: 0.6; }
        g.marker text { fill: #fff; }
        g.parent { opacity: 0.55; }
        """

    static let javascript = """
        (function () {
          'use strict';
          var svg = document.documentElement;
          var total = +svg.getAttribute('data-total');
          var pad = +svg.getAttribute('data-pad');
          var inner = +svg.getAttribute('data-inner-width');
          var charWidth = +svg.getAttribute('data-char-width');
          var matchFill = svg.getAttribute('data-match-fill');
          var details = document.getElementById('details');
          var resetButton = document.getElementById('reset');
          var searchButton = document.getElementById('search');
          var matched = document.getElementById('matched');
          var frames = [];
          var byId = {};
          var groups = document.querySelectorAll('g.f');
          for (var i = 0; i < groups.length; i++) {
            var g = groups[i];
            var rect = g.querySelector('rect');
            var title = g.querySelector('title').textContent;
            var f = {
              g: g, rect: rect, text: g.querySelector('text'),
              name: title.split('\\n')[0], info: title.split('\\n').join(' \\u00b7 '),
              x: +g.getAttribute('data-x'), n: +g.getAttribute('data-n'), d: +g.getAttribute('data-d'),
              fill: rect.getAttribute('fill')
            };
            frames.push(f);
            byId[g.id] = f;
            g.frame = f;
          }
          var zoomed = null;
          var pattern = null;

          function percent(part, whole) {
            return whole > 0 ? (100 * part / whole).toFixed(2) + '%' : '0%';
          }

          // The label that fits a box of this width, cut with '..' like the writer does.
          function label(name, width) {
            var room = Math.floor((width - 6) / charWidth);
            if (room < 3) return '';
            if (name.length <= room) return name;
            return name.slice(0, room - 2) + '..';
          }

          function place(f, x, width) {
            f.rect.setAttribute('x', x.toFixed(3));
            f.rect.setAttribute('width', width.toFixed(3));
            f.text.setAttribute('x', (x + 3).toFixed(3));
            f.text.textContent = label(f.name, width);
          }

          // Show `z` at full width (null: the whole profile).
          function zoom(z) {
            zoomed = z;
            var x0 = z ? z.x : 0;
            var n = z ? z.n : total;
            for (var i = 0; i < frames.length; i++) {
              var f = frames[i];
              var encloses = z && f.d <= z.d && f.x <= z.x && f.x + f.n >= z.x + z.n;
              var inside = f.x >= x0 && f.x + f.n <= x0 + n && (!z || f.d > z.d);
              if (encloses) {
                f.g.style.display = '';
                f.g.classList.toggle('parent', f !== z);
                place(f, pad, inner);
              } else if (inside) {
                f.g.style.display = '';
                f.g.classList.remove('parent');
                place(f, pad + (f.x - x0) / n * inner, f.n / n * inner);
              } else {
                f.g.style.display = 'none';
              }
            }
            resetButton.style.visibility = z ? 'visible' : 'hidden';
            showMatches();
          }

          // Highlights frames whose name matches, and says which share of the samples they hold. A matched frame
          // inside another matched frame is not counted twice: the union of their sample intervals is measured.
          function search(re) {
            pattern = re;
            for (var i = 0; i < frames.length; i++) {
              var f = frames[i];
              f.hit = !!re && re.test(f.name);
              f.rect.setAttribute('fill', f.hit ? matchFill : f.fill);
            }
            showMatches();
          }

          function coverage(lo, hi) {
            var spans = [];
            for (var i = 0; i < frames.length; i++) {
              var f = frames[i];
              var a = Math.max(f.x, lo), b = Math.min(f.x + f.n, hi);
              if (f.hit && a < b) spans.push([a, b]);
            }
            spans.sort(function (p, q) { return p[0] - q[0]; });
            var covered = 0, start = 0, end = -1;
            for (var j = 0; j < spans.length; j++) {
              if (spans[j][0] >= end) {
                if (end > start) covered += end - start;
                start = spans[j][0];
                end = spans[j][1];
              } else if (spans[j][1] > end) {
                end = spans[j][1];
              }
            }
            if (end > start) covered += end - start;
            return covered;
          }

          function showMatches() {
            if (!pattern) {
              matched.textContent = '';
              searchButton.textContent = 'Search';
              return;
            }
            var text = 'Matched: ' + percent(coverage(0, total), total) + ' of all samples';
            if (zoomed) text += ', ' + percent(coverage(zoomed.x, zoomed.x + zoomed.n), zoomed.n) + ' of this view';
            matched.textContent = text;
            searchButton.textContent = 'Reset Search';
          }

          function askSearch() {
            if (pattern) { search(null); return; }
            var term = window.prompt('Search frames (regular expression)', '');
            if (!term) return;
            try { search(new RegExp(term)); } catch (e) { window.alert('Not a regular expression: ' + e.message); }
          }

          svg.addEventListener('click', function (event) {
            var target = event.target;
            if (target === resetButton) { zoom(null); return; }
            if (target === searchButton) { askSearch(); return; }
            var g = target.closest ? target.closest('g.f') : null;
            if (g && g.frame) zoom(g.frame);
          });
          svg.addEventListener('mouseover', function (event) {
            var g = event.target.closest ? event.target.closest('g.f') : null;
            details.textContent = g && g.frame ? g.frame.info : ' ';
          });
          window.addEventListener('keydown', function (event) {
            if ((event.ctrlKey || event.metaKey) && event.key === 'f') { event.preventDefault(); askSearch(); }
            if (event.key === 'Escape') { search(null); zoom(null); }
          });

          // `#zoom=<frame id or name>&search=<regex>`: the widest frame of that name when no id matches.
          function applyFragment() {
            var params = {};
            location.hash.replace(/^#/, '').split('&').forEach(function (part) {
              var eq = part.indexOf('=');
              if (eq > 0) params[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
            });
            if (params.search) { try { search(new RegExp(params.search)); } catch (e) {} }
            var z = null;
            if (params.zoom) {
              z = byId[params.zoom] || null;
              for (var i = 0; !z && i < frames.length; i++) if (frames[i].name === params.zoom) z = frames[i];
              for (var j = 0; j < frames.length; j++) {
                if (z && frames[j].name === params.zoom && frames[j].n > z.n) z = frames[j];
              }
            }
            zoom(z);
          }
          window.addEventListener('hashchange', applyFragment);
          if (location.hash) applyFragment();
        })();
        """
}
