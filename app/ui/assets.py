"""Page CSS and the small scripts the UI needs (no third-party code, nothing fetched)."""

CSS = """
.gradio-container { max-width: 1500px !important; }
#app-title h1 { margin-bottom: 0; }
#app-title p { margin-top: 2px; opacity: .75; }

/* answers */
.sent-partial { background: rgba(245, 158, 11, .16); border-bottom: 2px dotted #d97706; }
.sent-unsupported { background: rgba(239, 68, 68, .14); border-bottom: 2px dotted #dc2626; }
sup.flag { font-size: .72em; padding: 0 .35em; border-radius: 4px; margin-left: .15em; white-space: nowrap; }
sup.flag-partial { background: #fef3c7; color: #92400e; }
sup.flag-unsupported { background: #fee2e2; color: #991b1b; }
a.cite { font-weight: 600; text-decoration: none !important; padding: 0 .1em; border-radius: 3px; cursor: pointer;
         color: var(--color-accent, #2563eb) !important; }
a.cite:hover { background: rgba(37, 99, 235, .12); }
.abstain strong { display: block; margin-bottom: .3em; }
.abstain-sub { opacity: .8; font-size: .92em; }
ul.closest { margin-top: .3em; font-size: .92em; }
.notice, .error { margin-top: .4em; font-size: .9em; opacity: .9; }
.confidence { margin-top: .3em; font-size: .8em; opacity: .7; }
.error { color: #b91c1c; }
.thinking, .streaming { opacity: .85; }
.cursor { animation: blink 1s steps(1) infinite; }
@keyframes blink { 50% { opacity: 0; } }

/* sources panel */
#sources { max-height: 640px; overflow-y: auto; padding-right: 4px; }
.sources-empty, .doc-empty { opacity: .7; font-size: .95em; padding: .6em .2em; }
.turn-q { font-size: .85em; opacity: .7; margin: .2em 0 .4em; }
details.turn-sources { margin: .5em 0; }
details.turn-sources > summary { cursor: pointer; font-size: .9em; opacity: .8; }
.src-card { border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 8px; padding: .6em .75em; margin: .5em 0;
            background: var(--block-background-fill, #fff); scroll-margin: 80px; transition: box-shadow .3s; }
.src-card.active { box-shadow: 0 0 0 3px rgba(37, 99, 235, .55); }
.src-card.flash { animation: flash 1.2s ease-out; }
@keyframes flash { 0% { background: rgba(250, 204, 21, .45); } 100% { background: transparent; } }
.src-card.closest { border-style: dashed; }
.src-head { font-weight: 600; }
.src-n { color: var(--color-accent, #2563eb); margin-right: .2em; }
.badge { font-weight: 400; font-size: .75em; margin-left: .5em; padding: .05em .4em; border-radius: 4px; background: #e5e7eb; color: #374151; }
.src-meta, .src-ids { font-size: .8em; opacity: .75; }
.src-where { font-size: .8em; overflow-wrap: anywhere; }
.src-passage { margin: .45em 0; padding: .3em .6em; border-left: 3px solid var(--border-color-primary, #d1d5db);
               white-space: pre-wrap; font-size: .9em; max-height: 240px; overflow-y: auto; }
.src-passage mark, .doc-text mark { background: #fde68a; color: inherit; padding: 0 .05em; border-radius: 2px; }
.src-actions { display: flex; gap: .6em; align-items: center; flex-wrap: wrap; }
button.open-doc { font-size: .8em; padding: .15em .6em; border-radius: 5px; border: 1px solid var(--border-color-primary, #d1d5db);
                  background: var(--button-secondary-background-fill, #f3f4f6); cursor: pointer; }
button.open-doc:hover { filter: brightness(.95); }

/* document view */
.doc-head { margin-bottom: .6em; }
.doc-title { font-size: 1.15em; font-weight: 600; }
.doc-text { white-space: pre-wrap; font-size: .93em; line-height: 1.55; max-height: 70vh; overflow-y: auto;
            border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 8px; padding: .8em 1em; }

/* grading */
.grade-pair { border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 8px; padding: .5em .7em; }
.grade-sentence { font-weight: 500; }
.verdict { font-size: .78em; padding: 0 .4em; border-radius: 4px; margin-left: .4em; }
.verdict-supported { background: #dcfce7; color: #166534; }
.verdict-partial { background: #fef3c7; color: #92400e; }
.verdict-unsupported { background: #fee2e2; color: #991b1b; }
"""

# Citation markers in chat messages are links to "#src-t{turn}-{n}": open (and unfold) the card in the
# sources panel, scroll to it and flash it, instead of navigating.
HEAD = """
<script>
(function () {
  function showCard(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    var d = el.closest('details');
    while (d) { d.open = true; d = d.parentElement ? d.parentElement.closest('details') : null; }
    document.querySelectorAll('.src-card.active').forEach(function (c) { c.classList.remove('active'); });
    el.classList.add('active');
    el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash');
    el.scrollIntoView({behavior: 'smooth', block: 'center'});
    var m = el.querySelector('mark');
    var box = m ? m.closest('.src-passage') : null;
    if (box) { box.scrollTop = Math.max(0, m.offsetTop - box.offsetTop - 24); }
    return true;
  }
  window.dossierShowCard = showCard;
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a.cite, a[href^="#src-"]') : null;
    if (!a) return;
    var id = (a.getAttribute('href') || '').replace(/^#/, '');
    if (id.indexOf('src-') !== 0) return;
    ev.preventDefault();
    ev.stopPropagation();
    showCard(id);
  }, true);
})();
</script>
"""

# gr.HTML js_on_load of the sources panel: "Open in document" buttons trigger the panel's click event
SOURCES_JS = """
element.addEventListener('click', function (e) {
  var b = e.target.closest ? e.target.closest('button.open-doc') : null;
  if (!b) return;
  e.preventDefault();
  trigger('click', {doc_id: b.getAttribute('data-doc'), start: parseInt(b.getAttribute('data-start'), 10),
                    end: parseInt(b.getAttribute('data-end'), 10)});
});
"""

# gr.HTML js_on_load of the document view: scroll the highlighted span into view whenever it changes
DOCVIEW_JS = """
function dossierScrollToMark() {
  var m = element.querySelector('#doc-hl');
  if (m) { m.scrollIntoView({block: 'center'}); }
}
watch('value', dossierScrollToMark);
dossierScrollToMark();
"""
