package ui

import (
	"compress/gzip"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The grid's rows are written here in Go rather than in overview.html:
// with 1,000 applications in 10 environments they are ten thousand cells,
// and html/template's contextual escaping of each of their ~15 values
// costs four times the rest of the page (measured: 330 ms against 80 ms).
// The markup is the same the template wrote; every value is escaped with
// escape below, and the golden test of a row guards it.

// gridRowsHTML writes the table rows of the overview.
func gridRowsHTML(rows []overviewRow) template.HTML {
	var b strings.Builder
	if len(rows) > 0 {
		b.Grow(len(rows) * (len(rows[0].Cells)*230 + 120))
	}
	for _, row := range rows {
		app := url.PathEscape(row.Name)
		b.WriteString(`<tr><th scope="row"><a href="/apps/`)
		escape(&b, app)
		b.WriteString(`">`)
		escape(&b, row.Name)
		b.WriteString(`</a>`)
		if row.Team != "" {
			b.WriteString(` <span class="team">`)
			escape(&b, row.Team)
			b.WriteString(`</span>`)
		}
		b.WriteString(`</th>`)
		for i := range row.Cells {
			writeCell(&b, &row.Cells[i])
		}
		b.WriteString("</tr>\n")
	}
	return template.HTML(b.String())
}

// writeMoreRow writes, when rows remain after v's, the row that loads
// them: the page script fetches its data-more URL when it scrolls into
// view; without the script its link shows every row.
func writeMoreRow(b *strings.Builder, v *overviewView) {
	more := v.MoreURL()
	if more == "" {
		return
	}
	fmt.Fprintf(b, `<tr class="more" data-more="%s"><td colspan="%d">`, html.EscapeString(more), len(v.Envs)+1)
	fmt.Fprintf(b, `%d more applications: <a href="%s">show all</a></td></tr>`, v.Matching-v.From-len(v.Rows), html.EscapeString(v.AllURL()))
	b.WriteString("\n")
}

// writeHTML answers a fragment of a page, compressed when the browser
// accepts gzip.
func (h *Handler) writeHTML(w http.ResponseWriter, r *http.Request, body string) error {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Add("Vary", "Accept-Encoding")
	if len(body) < 1024 || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		_, _ = io.WriteString(w, body)
		return nil
	}
	hdr.Set("Content-Encoding", "gzip")
	zw := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(zw)
	zw.Reset(w)
	_, _ = io.WriteString(zw, body)
	_ = zw.Close()
	return nil
}

// writeCell writes one cell: running version, queued version, lock
// markers, how long ago it was deployed. A cell has no link of its own:
// ten thousand links would make the grid a long way to tab through; the
// row header links to the application, the column header to the
// environment.
func writeCell(b *strings.Builder, c *overviewCell) {
	if len(c.Locks) > 0 {
		b.WriteString(`<td class="locked">`)
	} else {
		b.WriteString(`<td>`)
	}
	if c.Version != "" {
		b.WriteString(`<b>`)
		escape(b, c.Version)
		b.WriteString(`</b>`)
	} else {
		b.WriteString(`<span class="none" title="not deployed">–<span class="vh">not deployed</span></span>`)
	}
	if c.Queued != "" {
		b.WriteString(`<span class="q">queued `)
		escape(b, c.Queued)
		b.WriteString(`</span>`)
	}
	for _, m := range c.Locks {
		b.WriteString(m.HTML)
	}
	if c.Ago != "" {
		// No exact time in a title here: at 45 bytes a cell it would be a
		// third of the page; the application page has it.
		b.WriteString(`<time>`)
		b.WriteString(c.Ago)
		b.WriteString(`</time>`)
	}
	b.WriteString(`</td>`)
}

// markerHTML writes a lock marker: icon (CSS) and label, the message as a
// tooltip on hover (title) and, for keyboards and screen readers, as text
// that CSS shows on focus.
func markerHTML(class, label, tip string) string {
	var b strings.Builder
	b.WriteString(`<span class="lk `)
	escape(&b, class)
	b.WriteString(`" tabindex="0" title="`)
	escape(&b, tip)
	b.WriteString(`">`)
	escape(&b, label)
	b.WriteString(`<span class="tip">: `)
	escape(&b, tip)
	b.WriteString(`</span></span>`)
	return b.String()
}

// escape writes s HTML-escaped, as html/template escapes text and
// attribute values.
func escape(b *strings.Builder, s string) {
	if !strings.ContainsAny(s, "<>&'\"\x00") {
		b.WriteString(s)
		return
	}
	b.WriteString(htmlReplacer.Replace(s))
}

var htmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "\x00", "\uFFFD")
